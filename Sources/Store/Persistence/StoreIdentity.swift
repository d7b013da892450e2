import ChronosConfig

/// A store that records, per shard, the ``ChronosConfig/ShardIdentity`` its events were written
/// under (table `shard_identities`), so that a store written for another shard configuration is
/// refused instead of giving AAPL's history back under MSFT's name.
///
/// | column | type | meaning |
/// |---|---|---|
/// | `shard` | BIGINT, primary key | the shard id |
/// | `fingerprint` | BIGINT | 64-bit FNV-1a of `canonical` (its bit pattern) |
/// | `canonical` | TEXT | the identity's canonical text (symbols, terms, what the shard trades) |
public protocol ShardIdentityStore: AnyObject {
    /// The identity recorded for `shard`, or nil when none is (a new store, or one written before
    /// identities were recorded).
    func storedIdentity(shard: Int) throws -> ShardIdentity?
    /// Records `identity` for `shard` when the store has none and compares it otherwise.
    func claim(_ identity: ShardIdentity, shard: Int) throws -> ShardIdentityClaim
}

/// The outcome of ``ShardIdentityStore/claim(_:shard:)``.
public enum ShardIdentityClaim: Equatable, Sendable {
    /// The store had no identity for the shard: this one is recorded now.
    case recorded
    /// The store holds the same identity.
    case matches
    /// The store holds another identity: its events were written under another configuration.
    case differs(stored: ShardIdentity)
}

extension SQLiteEventStore: ShardIdentityStore {}
extension PostgresEventStore: ShardIdentityStore {}

extension SQLDialect {
    /// The table of shard identities (created by ``SQLEventStore/migrate()``).
    static let shardIdentitiesTable = """
        CREATE TABLE IF NOT EXISTS shard_identities (
            shard BIGINT PRIMARY KEY, fingerprint BIGINT NOT NULL, canonical TEXT NOT NULL)
        """
}

extension SQLEventStore {
    /// Creates `shard_identities` when missing; called in ``migrate()``'s transaction.
    func migrateShardIdentities(_ session: any SQLSession) throws {
        try session.execute(SQLDialect.shardIdentitiesTable, [])
    }

    public func storedIdentity(shard: Int) throws -> ShardIdentity? {
        try read { session in try Self.identity(session, shard: shard) }
    }

    public func claim(_ identity: ShardIdentity, shard: Int) throws -> ShardIdentityClaim {
        var claim = ShardIdentityClaim.recorded
        try transaction { session in
            let inserted = try session.query(
                """
                INSERT INTO shard_identities (shard, fingerprint, canonical) VALUES (?, ?, ?)
                ON CONFLICT (shard) DO NOTHING RETURNING shard
                """, [SQLValue(shard), SQLValue(identity.fingerprint), .text(identity.canonical)])
            guard inserted.isEmpty else { return }
            guard let stored = try Self.identity(session, shard: shard) else {
                throw EventStoreError("shard \(shard): its identity row can neither be recorded nor read")
            }
            claim = stored == identity ? .matches : .differs(stored: stored)
        }
        return claim
    }

    /// The `shard_identities` row of `shard`. A row whose fingerprint is not its canonical text's
    /// (a damaged row) is an error naming both.
    static func identity(_ session: any SQLSession, shard: Int) throws -> ShardIdentity? {
        guard
            let row = try session.query(
                "SELECT fingerprint, canonical FROM shard_identities WHERE shard = ?", [SQLValue(shard)]
            ).first
        else { return nil }
        let identity = ShardIdentity(canonical: row[1].text)
        guard identity.fingerprint == row[0].uint64 else {
            throw EventStoreError(
                "shard \(shard): the stored identity's fingerprint \(ShardIdentity.hex(row[0].uint64)) is not that "
                    + "of its canonical text (\(identity)): a damaged shard_identities row")
        }
        return identity
    }
}

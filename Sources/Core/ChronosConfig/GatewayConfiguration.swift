import TOMLKit

/// The gateway: where it listens, who may log on, and the limits that protect it.
///
/// Keys (the `[gateway]` table and its session arrays; all optional, defaults in code):
///
/// ```toml
/// [gateway]
/// name = "gateway-1"            # ZeroMQ routing id towards the shards; unique per gateway process
/// id = 1                        # 1…65535, unique per gateway: the high 16 bits of its engine order ids
/// host = "127.0.0.1"            # listen address of all three servers
/// fix_port = 9878               # FIX 4.4 over TCP; 0: any free port; -1: off
/// binary_port = 9879            # binary protocol over TCP (docs/protocol.md); 0: any; -1: off
/// udp_port = 9880               # binary protocol over UDP; 0: any; -1: off
/// state_dir = ".chronos-state"  # FIX sequence numbers, sent messages, order-id reservations
/// max_message_size = 4096       # bytes; a larger inbound message disconnects the session
/// max_messages_per_second = 5000 # per session (token bucket, burst = one second's worth)
/// max_outbound_bytes = 4194304  # per session: a client that reads slower is disconnected
/// ack_timeout_ms = 2000         # a command unanswered this long gets an `engine_timeout` reject
/// login_timeout_ms = 10000      # a FIX or binary TCP connection without a valid Logon/Login by then is closed
/// cpu = 0                       # optional: pin the event loop and the bridge thread to this core
///
/// [[gateway.fix_sessions]]
/// sender_comp_id = "CHRONOS"    # the exchange's CompID (tag 49 of what the gateway sends)
/// target_comp_id = "CLIENT1"    # the client's CompID
/// password = "…"                # optional: Logon must carry it in tag 554
/// accounts = [1]                # accounts the session may trade; the first when tag 1 is absent
///
/// [[gateway.binary_sessions]]
/// username = "trader1"          # up to 16 ASCII bytes
/// password = "…"                # up to 32 bytes
/// accounts = [101]
/// ```
///
/// Without a `[gateway]` table the embedded default serves the sessions of
/// ``defaultFIXSessions`` and ``defaultBinarySessions`` on the ports above, on loopback only.
public struct GatewayConfiguration: Sendable, Equatable {
    public var name = "gateway-1"
    public var id = 1
    public var host = "127.0.0.1"
    public var fixPort = 9878
    public var binaryPort = 9879
    public var udpPort = 9880
    public var stateDirectory = ".chronos-state"
    public var maxMessageSize = 4096
    public var maxMessagesPerSecond = 5000
    public var maxOutboundBytes = 4 << 20
    public var ackTimeoutMilliseconds = 2000
    /// How long a FIX or binary TCP connection may stay open without a valid Logon or Login.
    public var loginTimeoutMilliseconds = 10_000
    /// Pins the gateway's event-loop thread and its bridge thread to this core (both on one core:
    /// their hand-offs then cost a same-core wake-up instead of a cross-core one).
    public var cpu: Int?
    public var fixSessions: [FIXSessionSettings] = GatewayConfiguration.defaultFIXSessions
    public var binarySessions: [BinarySessionSettings] = GatewayConfiguration.defaultBinarySessions

    public init() {}

    /// Sessions of the embedded default, for trying the exchange locally (loopback only).
    public static let defaultFIXSessions = [
        FIXSessionSettings(senderCompID: "CHRONOS", targetCompID: "CLIENT1", password: nil, accounts: [1]),
        FIXSessionSettings(senderCompID: "CHRONOS", targetCompID: "CLIENT2", password: nil, accounts: [2]),
    ]
    /// Binary sessions of the embedded default (loopback only).
    public static let defaultBinarySessions = [
        BinarySessionSettings(username: "trader1", password: "trader1", accounts: [101]),
        BinarySessionSettings(username: "trader2", password: "trader2", accounts: [102]),
    ]
}

/// One FIX session the gateway accepts.
public struct FIXSessionSettings: Sendable, Equatable {
    /// The exchange's CompID on this session.
    public var senderCompID: String
    /// The client's CompID.
    public var targetCompID: String
    /// When set, Logon must carry it in Password (554).
    public var password: String?
    /// Accounts the session may trade; the first is used when an order carries no Account (1).
    public var accounts: [UInt32]

    public init(senderCompID: String, targetCompID: String, password: String?, accounts: [UInt32]) {
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.password = password
        self.accounts = accounts
    }
}

/// One login of the binary protocol.
public struct BinarySessionSettings: Sendable, Equatable {
    public var username: String
    public var password: String
    /// Accounts the session may trade.
    public var accounts: [UInt32]

    public init(username: String, password: String, accounts: [UInt32]) {
        self.username = username
        self.password = password
        self.accounts = accounts
    }
}

extension TableReader {
    mutating func gateway(_ table: TOMLTable) -> GatewayConfiguration {
        let path = "gateway"
        var gateway = GatewayConfiguration()
        rejectUnknownKeys(
            table, path: path,
            known: [
                "name", "id", "host", "fix_port", "binary_port", "udp_port", "state_dir", "max_message_size",
                "max_messages_per_second", "max_outbound_bytes", "ack_timeout_ms", "login_timeout_ms", "cpu",
                "fix_sessions",
                "binary_sessions",
            ])
        if let v = string(table, "name", path: path) {
            if v.isEmpty || v.utf8.count > 255 {
                errors.append("\(source): gateway.name: must be 1…255 bytes")
            } else {
                gateway.name = v
            }
        }
        if let v = int(table, "id", path: path) {
            if (1...65_535).contains(v) {
                gateway.id = v
            } else {
                errors.append("\(source): gateway.id: must be in 1...65535 (got \(v))")
            }
        }
        if let v = string(table, "host", path: path) { gateway.host = v }
        for (key, keyPath) in [
            ("fix_port", \GatewayConfiguration.fixPort), ("binary_port", \.binaryPort), ("udp_port", \.udpPort),
        ] {
            if let v = int(table, key, path: path) {
                if (-1...65_535).contains(v) {
                    gateway[keyPath: keyPath] = v
                } else {
                    errors.append("\(source): gateway.\(key): must be in -1...65535 (got \(v))")
                }
            }
        }
        if let v = string(table, "state_dir", path: path) { gateway.stateDirectory = v }
        if let v = int(table, "cpu", path: path) {
            if v >= 0 { gateway.cpu = v } else { errors.append("\(source): gateway.cpu: must be >= 0 (got \(v))") }
        }
        for (key, keyPath, minimum) in [
            ("max_message_size", \GatewayConfiguration.maxMessageSize, 256),
            ("max_messages_per_second", \.maxMessagesPerSecond, 1),
            ("max_outbound_bytes", \.maxOutboundBytes, 4096),
            ("ack_timeout_ms", \.ackTimeoutMilliseconds, 1),
            ("login_timeout_ms", \.loginTimeoutMilliseconds, 1),
        ] {
            if let v = int(table, key, path: path) {
                if v >= minimum {
                    gateway[keyPath: keyPath] = v
                } else {
                    errors.append("\(source): gateway.\(key): must be >= \(minimum) (got \(v))")
                }
            }
        }
        if let value = table["fix_sessions"] {
            gateway.fixSessions = []
            if let array = value.array {
                for (i, element) in array.enumerated() {
                    let sessionPath = "gateway.fix_sessions[\(i)]"
                    guard let t = element.table else {
                        errors.append("\(source): \(sessionPath): must be a table")
                        continue
                    }
                    rejectUnknownKeys(
                        t, path: sessionPath, known: ["sender_comp_id", "target_comp_id", "password", "accounts"])
                    let sender = requiredString(t, "sender_comp_id", path: sessionPath)
                    let target = requiredString(t, "target_comp_id", path: sessionPath)
                    let password = string(t, "password", path: sessionPath)
                    let accounts = accountList(t, path: sessionPath)
                    if let sender, let target, let accounts {
                        if gateway.fixSessions.contains(where: {
                            $0.senderCompID == sender && $0.targetCompID == target
                        }) {
                            errors.append("\(source): \(sessionPath): session \(sender)→\(target) is configured twice")
                        }
                        gateway.fixSessions.append(
                            .init(senderCompID: sender, targetCompID: target, password: password, accounts: accounts))
                    }
                }
            } else {
                errors.append("\(source): gateway.fix_sessions: must be an array of tables ([[gateway.fix_sessions]])")
            }
        }
        if let value = table["binary_sessions"] {
            gateway.binarySessions = []
            if let array = value.array {
                for (i, element) in array.enumerated() {
                    let sessionPath = "gateway.binary_sessions[\(i)]"
                    guard let t = element.table else {
                        errors.append("\(source): \(sessionPath): must be a table")
                        continue
                    }
                    rejectUnknownKeys(t, path: sessionPath, known: ["username", "password", "accounts"])
                    let username = requiredString(t, "username", path: sessionPath)
                    let password = requiredString(t, "password", path: sessionPath)
                    let accounts = accountList(t, path: sessionPath)
                    if let username, username.utf8.count > 16 {
                        errors.append("\(source): \(sessionPath).username: at most 16 bytes")
                    }
                    if let password, password.utf8.count > 32 {
                        errors.append("\(source): \(sessionPath).password: at most 32 bytes")
                    }
                    if let username, let password, let accounts {
                        if gateway.binarySessions.contains(where: { $0.username == username }) {
                            errors.append("\(source): \(sessionPath).username: \(username) is configured twice")
                        }
                        gateway.binarySessions.append(.init(username: username, password: password, accounts: accounts))
                    }
                }
            } else {
                errors.append(
                    "\(source): gateway.binary_sessions: must be an array of tables ([[gateway.binary_sessions]])")
            }
        }
        return gateway
    }

    private mutating func requiredString(_ table: TOMLTable, _ key: String, path: String) -> String? {
        guard table[key] != nil else {
            errors.append("\(source): \(path).\(key): missing")
            return nil
        }
        guard let s = string(table, key, path: path) else { return nil }
        if s.isEmpty {
            errors.append("\(source): \(path).\(key): must not be empty")
            return nil
        }
        return s
    }

    private mutating func accountList(_ table: TOMLTable, path: String) -> [UInt32]? {
        guard let value = table["accounts"] else {
            errors.append("\(source): \(path).accounts: missing")
            return nil
        }
        guard let array = value.array, !array.isEmpty,
            let numbers = Optional(array.compactMap { $0.type == .int ? $0.int : nil }), numbers.count == array.count,
            numbers.allSatisfy({ (0...Int(UInt32.max)).contains($0) })
        else {
            errors.append("\(source): \(path).accounts: must be a non-empty array of account numbers (0…4294967295)")
            return nil
        }
        return numbers.map { UInt32($0) }
    }
}

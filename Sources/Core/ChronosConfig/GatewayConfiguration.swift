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
/// [gateway.account_ids]         # optional: account names → account numbers (0…4294967295)
/// ACC1 = 1001                   # a name: 1–64 of `!`…`~`, not all digits; one name per number
///
/// [[gateway.fix_sessions]]
/// sender_comp_id = "CHRONOS"    # the exchange's CompID (tag 49 of what the gateway sends)
/// target_comp_id = "CLIENT1"    # the client's CompID
/// password = "…"                # optional: Logon must carry it in tag 554
/// accounts = [1, "ACC1"]        # accounts the session may trade: numbers, numeric strings or names
///                               # of [gateway.account_ids]; the first when tag 1 is absent
/// reset_on_logon = false        # true: every Logon resets both sequence numbers to 1 (QuickFIX ResetOnLogon)
///
/// [[gateway.binary_sessions]]
/// username = "trader1"          # up to 16 ASCII bytes
/// password = "…"                # up to 32 bytes
/// accounts = [101]              # as for FIX (the binary protocol itself carries numbers)
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
    /// Account names → account numbers (`[gateway.account_ids]`). Inside the exchange an account is
    /// its number; a name is how clients and the configuration may spell it (FIX Account, tag 1).
    /// Names are never all digits (a numeric string is always that number) and each number has at
    /// most one name.
    public var accountIDs: [String: UInt32] = [:]

    public init() {}

    /// The name of each named account number (the inverse of ``accountIDs``).
    public var accountNames: [UInt32: String] {
        Dictionary(accountIDs.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The account number `text` spells: a string of decimal digits is that number (when it fits
    /// 32 bits), anything else a name of ``accountIDs``; nil when it is neither.
    public func accountNumber(_ text: String) -> UInt32? { Self.accountNumber(text, names: accountIDs) }

    /// The account number `text` spells with the names `names` (``accountNumber(_:)``'s rule).
    public static func accountNumber(_ text: String, names: [String: UInt32]) -> UInt32? {
        isAccountNumberText(text) ? UInt32(text) : names[text]
    }

    /// Whether `text` is all ASCII decimal digits (and not empty): such an account is a number.
    public static func isAccountNumberText(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

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
    /// Whether every Logon resets both sequence numbers to 1, as if it carried ResetSeqNumFlag
    /// (141=Y) — QuickFIX's `ResetOnLogon=Y` for an acceptor. A Logon with 141=Y resets them either way.
    public var resetOnLogon: Bool

    public init(
        senderCompID: String, targetCompID: String, password: String?, accounts: [UInt32], resetOnLogon: Bool = false
    ) {
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.password = password
        self.accounts = accounts
        self.resetOnLogon = resetOnLogon
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
                "fix_sessions", "binary_sessions", "account_ids",
            ])
        // Names first: the sessions' account lists may use them.
        if let ids = self.table(table, "account_ids", path: path) { gateway.accountIDs = accountIDs(ids) }
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
                        t, path: sessionPath,
                        known: ["sender_comp_id", "target_comp_id", "password", "accounts", "reset_on_logon"])
                    let sender = requiredString(t, "sender_comp_id", path: sessionPath)
                    let target = requiredString(t, "target_comp_id", path: sessionPath)
                    let password = string(t, "password", path: sessionPath)
                    let accounts = accountList(t, path: sessionPath, names: gateway.accountIDs)
                    var resetOnLogon = false
                    if let value = t["reset_on_logon"] {
                        if let flag = value.bool {
                            resetOnLogon = flag
                        } else {
                            errors.append("\(source): \(sessionPath).reset_on_logon: must be true or false")
                        }
                    }
                    if let sender, let target, let accounts {
                        if gateway.fixSessions.contains(where: {
                            $0.senderCompID == sender && $0.targetCompID == target
                        }) {
                            errors.append("\(source): \(sessionPath): session \(sender)→\(target) is configured twice")
                        }
                        gateway.fixSessions.append(
                            .init(
                                senderCompID: sender, targetCompID: target, password: password, accounts: accounts,
                                resetOnLogon: resetOnLogon))
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
                    let accounts = accountList(t, path: sessionPath, names: gateway.accountIDs)
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

    /// `accounts`: a non-empty array of account numbers, numeric strings ("101" is 101) and names
    /// of `[gateway.account_ids]`, each resolved to its number.
    private mutating func accountList(_ table: TOMLTable, path: String, names: [String: UInt32]) -> [UInt32]? {
        guard let value = table["accounts"] else {
            errors.append("\(source): \(path).accounts: missing")
            return nil
        }
        guard let array = value.array, !array.isEmpty else {
            errors.append(
                "\(source): \(path).accounts: must be a non-empty array of account numbers (0…4294967295) or names")
            return nil
        }
        var numbers: [UInt32] = []
        for element in array {
            if element.type == .int, let n = element.int, (0...Int(UInt32.max)).contains(n) {
                numbers.append(UInt32(n))
            } else if let text = element.string {
                if let n = GatewayConfiguration.accountNumber(text, names: names) {
                    numbers.append(n)
                } else {
                    errors.append(
                        "\(source): \(path).accounts: \"\(text)\" is neither an account number (0…4294967295) nor a "
                            + "name of [gateway.account_ids]")
                    return nil
                }
            } else {
                errors.append(
                    "\(source): \(path).accounts: must be a non-empty array of account numbers (0…4294967295) or names")
                return nil
            }
        }
        return numbers
    }

    /// `[gateway.account_ids]`: name = number. A name is 1–64 of `!`…`~` and not all digits (a
    /// numeric string always means that number); a number has at most one name, so that reports
    /// can name it.
    private mutating func accountIDs(_ table: TOMLTable) -> [String: UInt32] {
        var ids: [String: UInt32] = [:]
        var nameOf: [UInt32: String] = [:]
        for name in table.keys.sorted() {
            let key = "gateway.account_ids.\(name)"
            guard let value = table[name], value.type == .int, let n = value.int, (0...Int(UInt32.max)).contains(n)
            else {
                errors.append("\(source): \(key): must be an account number (0…4294967295)")
                continue
            }
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                errors.append("\(source): \(key): a name is 1…64 printable ASCII characters without spaces")
                continue
            }
            guard !GatewayConfiguration.isAccountNumberText(name) else {
                errors.append(
                    "\(source): \(key): a name must not be all digits (\"\(name)\" already means account \(name))")
                continue
            }
            if let other = nameOf[UInt32(n)] {
                errors.append("\(source): \(key): account \(n) is already named \(other)")
                continue
            }
            ids[name] = UInt32(n)
            nameOf[UInt32(n)] = name
        }
        return ids
    }
}

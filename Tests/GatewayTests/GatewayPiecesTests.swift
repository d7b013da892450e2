import ChronosConfig
import ChronosCore
import Foundation
import Testing

@testable import Gateway

@Suite struct SymbolDirectoryTests {
    @Test func decimalPricesAreExact() {
        #expect(SymbolDirectory.decimalString(15_025, decimals: 2) == "150.25")
        #expect(SymbolDirectory.decimalString(5, decimals: 2) == "0.05")
        #expect(SymbolDirectory.decimalString(-5, decimals: 3) == "-0.005")
        #expect(SymbolDirectory.decimalString(7, decimals: 0) == "7")
        #expect(SymbolDirectory.decimalString(Int64.max, decimals: 2) == "92233720368547758.07")
    }

    @Test func averagePriceRoundsHalfUpAtFourExtraDecimals() {
        // (150.00 × 1 + 150.01 × 2) / 3 = 150.006666… → 150.006667
        #expect(SymbolDirectory.averagePrice(notional: 15_000 + 2 * 15_001, quantity: 3, decimals: 2) == "150.006667")
        #expect(SymbolDirectory.averagePrice(notional: 0, quantity: 0, decimals: 2) == "0")
    }

    @Test func namesMapToEngineIDsInConfigurationOrder() {
        let directory = SymbolDirectory([SymbolConfiguration(name: "AAPL"), SymbolConfiguration(name: "MSFT")])
        #expect(directory.id(of: "MSFT") == SymbolID(1))
        #expect(directory.id(of: "TSLA") == nil)
        #expect(directory[SymbolID(0)].name == "AAPL")
    }
}

@Suite struct RateLimiterTests {
    @Test func burstThenRefillAtTheRate() {
        var limiter = RateLimiter(messagesPerSecond: 10)
        let start: UInt64 = 1_000_000_000
        var answers: [Bool] = []
        for _ in 0..<11 { answers.append(limiter.allow(now: start)) }
        answers.append(limiter.allow(now: start + 50_000_000))  // 0.5 token
        answers.append(limiter.allow(now: start + 110_000_000))  // 1.1 tokens
        answers.append(limiter.allow(now: start + 110_000_000))
        #expect(answers == Array(repeating: true, count: 10) + [false, false, true, false])
    }
}

@Suite struct OrderIDAllocatorTests {
    @Test func idsCarryTheGatewayAndSurviveARestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-ids-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("order-ids").path
        var first = try OrderIDAllocator(gatewayID: 3, path: path)
        var last = OrderID(0)
        for _ in 0..<10 { last = try first.next() }
        #expect(last.rawValue >> 48 == 3)
        #expect(last.rawValue & 0xFFFF_FFFF_FFFF == 10)
        var restarted = try OrderIDAllocator(gatewayID: 3, path: path)
        let next = try restarted.next()
        #expect(next.rawValue > last.rawValue, "a restarted gateway never reuses an id")
        #expect(next.rawValue >> 48 == 3)
    }

    @Test func aCorruptReservationFileIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-bad-ids-\(UInt64.random(in: 0...UInt64.max))"
        ).path
        try "not a number".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: GatewayError.self) { _ = try OrderIDAllocator(gatewayID: 1, path: path) }
    }
}

@Suite struct GatewayConfigurationTests {
    @Test func sessionsAndLimitsParse() throws {
        let exchange = try ExchangeConfiguration.parse(
            toml: """
                [gateway]
                name = "gw-a"
                id = 7
                fix_port = 0
                udp_port = -1
                max_messages_per_second = 100
                [[gateway.fix_sessions]]
                sender_comp_id = "EX"
                target_comp_id = "C1"
                password = "pw"
                accounts = [1, 2]
                [[gateway.binary_sessions]]
                username = "u1"
                password = "p1"
                accounts = [9]
                """)
        let gateway = exchange.gateway
        #expect(gateway.name == "gw-a" && gateway.id == 7 && gateway.fixPort == 0 && gateway.udpPort == -1)
        #expect(gateway.maxMessagesPerSecond == 100)
        #expect(
            gateway.fixSessions == [
                FIXSessionSettings(senderCompID: "EX", targetCompID: "C1", password: "pw", accounts: [1, 2])
            ])
        #expect(gateway.binarySessions == [BinarySessionSettings(username: "u1", password: "p1", accounts: [9])])
    }

    @Test func accountsMayBeNamesNumericStringsOrNumbers() throws {
        let gateway = try ExchangeConfiguration.parse(
            toml: """
                [gateway.account_ids]
                ACC1 = 1001
                "DESK-7" = 7
                [[gateway.fix_sessions]]
                sender_comp_id = "EX"
                target_comp_id = "C1"
                accounts = ["ACC1", 2, "3", "DESK-7"]
                reset_on_logon = true
                [[gateway.binary_sessions]]
                username = "u1"
                password = "p1"
                accounts = ["ACC1"]
                """
        ).gateway
        #expect(gateway.accountIDs == ["ACC1": 1001, "DESK-7": 7])
        #expect(gateway.accountNames == [1001: "ACC1", 7: "DESK-7"])
        #expect(
            gateway.fixSessions == [
                FIXSessionSettings(
                    senderCompID: "EX", targetCompID: "C1", password: nil, accounts: [1001, 2, 3, 7], resetOnLogon: true
                )
            ])
        #expect(gateway.binarySessions.first?.accounts == [1001])
        #expect(gateway.accountNumber("ACC1") == 1001 && gateway.accountNumber("0042") == 42)
        #expect(gateway.accountNumber("ACC9") == nil && gateway.accountNumber("99999999999") == nil)
        #expect(gateway.accountNumber("+5") == nil, "only plain digits are a number")
    }

    @Test func resetOnLogonIsOffByDefault() throws {
        let gateway = try ExchangeConfiguration.parse(
            toml: "[[gateway.fix_sessions]]\nsender_comp_id = \"A\"\ntarget_comp_id = \"B\"\naccounts = [1]"
        ).gateway
        #expect(gateway.fixSessions.map(\.resetOnLogon) == [false])
        #expect(GatewayConfiguration.defaultFIXSessions.allSatisfy { !$0.resetOnLogon })
    }

    @Test func defaultsServeLoopbackWithDemoSessions() throws {
        let gateway = try ExchangeConfiguration.parse(toml: "").gateway
        #expect(
            gateway.host == "127.0.0.1" && gateway.fixPort == 9878 && gateway.binaryPort == 9879
                && gateway.udpPort == 9880)
        #expect(!gateway.fixSessions.isEmpty && !gateway.binarySessions.isEmpty)
    }

    @Test func badKeysAreNamed() {
        let cases: [(String, String)] = [
            ("[gateway]\nid = 0", "gateway.id"),
            ("[gateway]\nfix_port = 70000", "gateway.fix_port"),
            ("[gateway]\nmax_message_size = 10", "gateway.max_message_size"),
            ("[gateway]\nbogus = 1", "gateway.bogus"),
            (
                "[[gateway.fix_sessions]]\nsender_comp_id = \"A\"\naccounts = [1]",
                "gateway.fix_sessions[0].target_comp_id"
            ),
            (
                "[[gateway.fix_sessions]]\nsender_comp_id = \"A\"\ntarget_comp_id = \"B\"\naccounts = []",
                "gateway.fix_sessions[0].accounts"
            ),
            (
                "[[gateway.binary_sessions]]\nusername = \"a-very-long-user-name\"\npassword = \"p\"\naccounts = [1]",
                "gateway.binary_sessions[0].username"
            ),
            (
                "[[gateway.fix_sessions]]\nsender_comp_id = \"A\"\ntarget_comp_id = \"B\"\naccounts = [\"ACC1\"]",
                "gateway.fix_sessions[0].accounts: \"ACC1\" is neither"
            ),
            (
                "[[gateway.binary_sessions]]\nusername = \"u\"\npassword = \"p\"\naccounts = [\"ACC1\"]",
                "gateway.binary_sessions[0].accounts"
            ),
            (
                "[[gateway.fix_sessions]]\nsender_comp_id = \"A\"\ntarget_comp_id = \"B\"\naccounts = [1]\nreset_on_logon = 1",
                "gateway.fix_sessions[0].reset_on_logon"
            ),
            ("[gateway.account_ids]\n\"123\" = 5", "gateway.account_ids.123"),
            ("[gateway.account_ids]\nA = 1\nB = 1", "gateway.account_ids.B"),
            ("[gateway.account_ids]\nA = -1", "gateway.account_ids.A"),
            ("[gateway.account_ids]\nA = \"1\"", "gateway.account_ids.A"),
            ("[gateway.account_ids]\n\"A B\" = 1", "gateway.account_ids.A B"),
            (
                "[[gateway.binary_sessions]]\nusername = \"u\"\npassword = \"p\"\naccounts = [1]\n[[gateway.binary_sessions]]\nusername = \"u\"\npassword = \"q\"\naccounts = [2]",
                "gateway.binary_sessions[1].username"
            ),
        ]
        for (toml, key) in cases {
            do {
                _ = try ExchangeConfiguration.parse(toml: toml)
                Issue.record("accepted: \(toml)")
            } catch {
                #expect(error.problems.contains { $0.contains(key) }, "\(error.problems) should name \(key)")
            }
        }
    }
}

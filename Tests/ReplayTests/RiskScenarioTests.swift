import ChronosConfig
import Foundation
import Replay
import TestSupport
import Testing

/// Golden scenarios of `chronos replay --risk` (see RiskScenarios/README.md): each
/// `NAME.in.jsonl` replayed in risk mode, with `NAME.toml` as `--config` when present, must print
/// exactly `NAME.out.jsonl`.
@Suite struct RiskScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("RiskScenarios")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".in.jsonl") }.map { String($0.dropLast(".in.jsonl".count)) }.sorted()
    }

    @Test func thereAreRiskScenarios() {
        #expect(Self.names.count >= 6)
    }

    @Test(arguments: names)
    func riskScenario(_ name: String) throws {
        let input = try Data(contentsOf: Self.directory.appendingPathComponent("\(name).in.jsonl"))
        let expected = try String(
            contentsOf: Self.directory.appendingPathComponent("\(name).out.jsonl"), encoding: .utf8)
        let configURL = Self.directory.appendingPathComponent("\(name).toml")
        var configuration = ExchangeConfiguration()
        if FileManager.default.fileExists(atPath: configURL.path) {
            configuration = try ExchangeConfiguration.load(path: configURL.path)
        }
        let output = try ReplaySession.replay(Array(input), configuration: configuration, risk: true)
        let actual = String(decoding: output, as: UTF8.self)
        if actual != expected {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let firstDifference =
                zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(a.count, e.count)
            Issue.record(
                """
                \(name): output differs at line \(firstDifference + 1)
                expected: \(firstDifference < e.count ? String(e[firstDifference]) : "<end>")
                actual:   \(firstDifference < a.count ? String(a[firstDifference]) : "<end>")
                """)
        }
    }

    /// Without `--risk` the same streams give the engine's output alone: every `risk` event gone,
    /// and no risk rejection.
    @Test func withoutRiskNoRiskEventsAppear() throws {
        let input = try Data(
            contentsOf: Self.directory.appendingPathComponent(
                "notionalAboveOneMillionDollarsRejectsWithoutConfig.in.jsonl"))
        let output = String(decoding: try ReplaySession.replay(Array(input)), as: UTF8.self)
        #expect(!output.contains("\"risk\""))
        #expect(!output.contains("risk_"))
    }

    @Test func binaryTakesRiskFlagAndRejectsABadRiskTableWithExitCode2() throws {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let input = Data(
            """
            {"op":"new","id":1,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","price":100000,"qty":1001}
            {"op":"new","id":1,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","price":100000,"qty":1000}
            """.utf8)
        let result = try DifferentialTests.run([binary.path, "replay", "--risk"], input: input)
        #expect(result.status == 0)
        #expect(
            String(decoding: result.out, as: UTF8.self) == """
                {"ev":"risk","id":1,"account":"A1","score":null,"action":"reject","reason":"notional_limit"}
                {"ev":"rejected","id":1,"reason":"risk_notional_limit"}
                {"ev":"risk","id":1,"account":"A1","score":null,"action":"pass","reason":"model_off"}
                {"ev":"accepted","id":1}

                """)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("chronos-\(UUID()).toml")
        try Data("[risk]\nmax_notional_usd = 0\nspeed = 3\n".utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let bad = try DifferentialTests.run([binary.path, "replay", "--risk", "--config", config.path], input: Data())
        #expect(bad.status == 2)
        let message = String(decoding: bad.err, as: UTF8.self)
        #expect(message.contains("risk.max_notional_usd: must be > 0"))
        #expect(message.contains("risk.speed: unknown key"))
    }
}

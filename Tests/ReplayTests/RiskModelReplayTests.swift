import Foundation
import TestSupport
import Testing

/// `chronos replay --risk` with a spoofing model configured (`[risk.model]`), black-box through the
/// binary: the policy modes on the risk events, determinism, and start-up errors for bad models.
/// The model is a committed test fixture (Tests/SpoofingModelTests/Fixtures), not the bundled one,
/// so that these checks do not move when the bundled model is retrained.
@Suite(.serialized) struct RiskModelReplayTests {
    static let fixture = TestSupport.repositoryRoot.appendingPathComponent(
        "Tests/SpoofingModelTests/Fixtures/logistic.onnx")

    /// A stream with a spoof-like pattern, fills and cancels, with event times.
    static let stream: String = {
        var lines: [String] = []
        var ts: UInt64 = 1_000_000_000
        func add(_ line: String) {
            ts += 50_000_000
            lines.append(String(line.dropLast()) + ",\"ts\":\(ts)}")
        }
        var id = 1
        for round in 0..<20 {
            add(
                #"{"op":"new","id":\#(id),"account":"MM","symbol":"X","side":"buy","type":"limit","price":\#(99 - round % 3),"qty":100}"#
            )
            add(
                #"{"op":"new","id":\#(id + 1),"account":"MM","symbol":"X","side":"sell","type":"limit","price":\#(101 + round % 3),"qty":100}"#
            )
            add(
                #"{"op":"new","id":\#(id + 2),"account":"S","symbol":"X","side":"sell","type":"limit","price":104,"qty":2000}"#
            )
            add(#"{"op":"new","id":\#(id + 3),"account":"T","symbol":"X","side":"buy","type":"market","qty":50}"#)
            add(#"{"op":"cancel","id":\#(id + 2),"account":"S","symbol":"X"}"#)
            add(#"{"op":"replace","id":\#(id),"account":"MM","symbol":"X","qty":80}"#)
            id += 4
        }
        add(#"{"op":"book","symbol":"X"}"#)
        return lines.joined(separator: "\n") + "\n"
    }()

    static func replay(_ config: String, input: String = stream) throws -> (out: String, err: String, status: Int32) {
        let binary = try #require(TestSupport.chronosBinary, "build the chronos executable first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-model-replay-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("risk.toml")
        try config.write(to: path, atomically: true, encoding: .utf8)
        let result = try DifferentialTests.run(
            [binary.path, "replay", "--risk", "--config", path.path], input: Data(input.utf8))
        return (String(decoding: result.out, as: UTF8.self), String(decoding: result.err, as: UTF8.self), result.status)
    }

    static func config(_ body: String) -> String {
        """
        [[risk.symbols]]
        reference_price = 100
        name = "X"

        [risk.model]
        path = "\(fixture.path)"
        \(body)

        """
    }

    static func riskEvents(_ out: String) -> [[String: Any]] {
        out.split(separator: "\n").compactMap {
            guard let object = try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any],
                object["ev"] as? String == "risk"
            else { return nil }
            return object
        }
    }

    @Test func shadowScoresEveryNewAndReplaceAndNeverActs() throws {
        let (out, err, status) = try Self.replay(Self.config(#"mode = "shadow""#))
        #expect(status == 0, "\(err)")
        let risks = Self.riskEvents(out)
        #expect(risks.count == 20 * 5)  // 4 new + 1 replace per round
        for event in risks {
            let score = try #require(event["score"] as? Double, "a shadow score is a number: \(event)")
            #expect(score >= 0 && score <= 1)
            #expect(event["action"] as? String == "pass")
            #expect(event["reason"] is NSNull)
        }
        #expect(Set(risks.compactMap { $0["score"] as? Double }).count > 3, "scores vary with the features")
        // Without --risk's model the book is the same: shadow changes nothing.
        let (plain, _, _) = try Self.replay(Self.config(#"mode = "off""#))
        let book = { (text: String) in text.split(separator: "\n").last.map(String.init) }
        #expect(book(out) == book(plain))
    }

    @Test func rejectModeKeepsFlaggedOrdersOutOfTheBook() throws {
        let (out, err, status) = try Self.replay(Self.config("mode = \"reject\"\nthreshold = 0.0"))
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n").map(String.init)
        // Threshold 0: every new and replace is rejected by the model; nothing reaches the book.
        #expect(!lines.contains { $0.contains(#""ev":"accepted""#) })
        #expect(lines.filter { $0.contains(#""reason":"risk_spoofing_model""#) }.count == 20 * 5)  // news and replaces
        #expect(lines.last == #"{"ev":"book","symbol":"X","bids":[],"asks":[]}"#)
    }

    @Test func flagAndDeterminismIncludingScoreBehind() throws {
        for scoring in ["in_path", "behind"] {
            let config = Self.config("mode = \"flag\"\nthreshold = 0.5\nscoring = \"\(scoring)\"")
            let first = try Self.replay(config)
            let second = try Self.replay(config)
            #expect(first.status == 0, "\(first.err)")
            #expect(first.out == second.out, "\(scoring): the same input and configuration give the same output")
            for event in Self.riskEvents(first.out) {
                let score = try #require(event["score"] as? Double)
                let flagged = event["action"] as? String == "flag"
                // Scores are printed to three decimals: compare with the printed threshold.
                #expect(flagged == (score >= 0.5) || abs(score - 0.5) < 0.001, "\(event)")
                #expect(flagged == (event["reason"] as? String == "spoofing_model"))
            }
        }
    }

    @Test func aMissingOrCorruptModelIsAClearStartupError() throws {
        let missing = try Self.replay(
            Self.config("").replacingOccurrences(of: Self.fixture.path, with: "/nonexistent/model.onnx"))
        #expect(missing.status == 2)
        #expect(missing.err.contains("/nonexistent/model.onnx") && missing.out.isEmpty)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "chronos-corrupt-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let corrupt = dir.appendingPathComponent("corrupt.onnx")
        let bytes = try Data(contentsOf: Self.fixture)
        try bytes.prefix(bytes.count / 2).write(to: corrupt)
        let broken = try Self.replay(Self.config("").replacingOccurrences(of: Self.fixture.path, with: corrupt.path))
        #expect(broken.status == 2)
        #expect(broken.err.contains(corrupt.path))

        // static_only: the run goes on without the model (scores null, "model_off").
        let staticOnly = try Self.replay(
            Self.config("on_load_error = \"static_only\"").replacingOccurrences(
                of: Self.fixture.path, with: corrupt.path))
        #expect(staticOnly.status == 0, "\(staticOnly.err)")
        let risks = Self.riskEvents(staticOnly.out)
        #expect(!risks.isEmpty && risks.allSatisfy { $0["score"] is NSNull && $0["reason"] as? String == "model_off" })
    }
}

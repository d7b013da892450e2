import Foundation
import Replay
import Testing

/// Golden scenarios written straight from the spec (one per behaviour, see Scenarios/README.md):
/// each `NAME.in.jsonl` replayed must print exactly `NAME.out.jsonl`.
@Suite struct ScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scenarios")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".in.jsonl") }.map { String($0.dropLast(".in.jsonl".count)) }.sorted()
    }

    @Test func thereAreScenariosForEveryRule() {
        #expect(Self.names.count >= 60)
    }

    @Test(arguments: names)
    func scenario(_ name: String) throws {
        let input = try Data(contentsOf: Self.directory.appendingPathComponent("\(name).in.jsonl"))
        let expected = try String(
            contentsOf: Self.directory.appendingPathComponent("\(name).out.jsonl"), encoding: .utf8)
        let output = try ReplaySession.replay(Array(input))
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
}

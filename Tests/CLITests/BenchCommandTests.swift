import Foundation
import TestSupport
import Testing

/// `chronos bench engine` (its code lives in Benchmarks/Sources/ChronosBench) runs each flow on a
/// small stream and reports throughput, page faults and latency.
@Suite struct BenchCommandTests {
    @Test(arguments: [
        ["--flow", "realistic", "--commands", "20000", "--warmup", "2000"],
        ["--flow", "random-ids", "--new-orders", "5000"],
        ["--flow", "deep-book", "--levels", "200", "--commands", "5000"],
    ])
    func eachEngineFlowRunsAndReports(_ arguments: [String]) async throws {
        let binary = try #require(TestSupport.chronosBinary, "build chronos first")
        try await offThePool {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["bench", "engine", "--passes", "1"] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(text.contains("commands per CPU-second"), "\(text)")
            #expect(text.contains("page faults in the timed loop"), "\(text)")
            #expect(text.contains("latency per command (ns):"), "\(text)")
        }
    }
}

import ChronosConfig
import Foundation
import Replay
import TestSupport
import Testing
import Workload

/// The file-descriptor path of `chronos replay`: lines split across read buffers, over-long
/// lines, a last line without a newline, and the built binary as a real process.
@Suite struct ReplayStreamTests {
    private func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("chronos-replay-\(UUID()).jsonl")
        try Data(bytes).write(to: url)
        return url
    }

    private func replayThroughFileDescriptor(_ input: [UInt8]) throws -> [UInt8] {
        let url = try temporaryFile(input)
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let session = try ReplaySession(output: .memory)
        #expect(session.run(inputFileDescriptor: fd))
        return session.collectedOutput
    }

    @Test func fileDescriptorPathMatchesInMemoryReplayAcrossBufferBoundaries() throws {
        var generator = try OrderFlowGenerator(.init(seed: 21, symbols: 2, accounts: 5, targetRestingOrders: 500))
        var input: [UInt8] = []
        // ~40,000 lines: several 2 MiB read buffers, so lines straddle every boundary position.
        for command in generator.generate(40_000) { input += Array(command.replayJSONLine.utf8) + [0x0A] }
        input += Array(#"{"op":"book","symbol":"SYM0"}"#.utf8)  // last line, no newline
        let viaFD = try replayThroughFileDescriptor(input)
        let inMemory = try ReplaySession.replay(input)
        #expect(viaFD.count > 100_000)
        #expect(viaFD == inMemory)
    }

    @Test func overlongLineIsOneMalformedEventAndReadingResumes() throws {
        let before = Array(
            #"{"op":"new","id":1,"account":"A","symbol":"S","side":"buy","type":"limit","price":5,"qty":1}"#.utf8)
        let huge =
            Array(#"{"op":"new","id":2,"pad":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 3 << 20)
            + Array(#""}"#.utf8)
        let after = Array(#"{"op":"cancel","id":1,"account":"A","symbol":"S"}"#.utf8)
        let input = before + [0x0A] + huge + [0x0A] + after + [0x0A]
        let expected = """
            {"ev":"accepted","id":1}
            {"ev":"rejected","id":null,"reason":"malformed"}
            {"ev":"canceled","id":1,"qty":1}

            """
        #expect(String(decoding: try replayThroughFileDescriptor(input), as: UTF8.self) == expected)
        #expect(String(decoding: try ReplaySession.replay(input), as: UTF8.self) == expected)
    }

    @Test func lineOfExactlyTheLimitIsReadAndOneByteMoreIsNot() throws {
        func line(length: Int) -> [UInt8] {
            let head = Array(#"{"op":"book","symbol":"S","pad":""#.utf8)
            let tail = Array(#""}"#.utf8)
            return head + Array(repeating: UInt8(ascii: "y"), count: length - head.count - tail.count) + tail
        }
        let limit = JSONLineScanner.maxLineLength
        let input = line(length: limit) + [0x0A] + line(length: limit + 1) + [0x0A]
        let output = String(decoding: try replayThroughFileDescriptor(input), as: UTF8.self)
        #expect(
            output == """
                {"ev":"book","symbol":"S","bids":[],"asks":[]}
                {"ev":"rejected","id":null,"reason":"malformed"}

                """)
    }

    /// The `chronos` executable that `swift build` (which `make test` runs first) put in `.build`.
    static var chronosBinary: URL? { TestSupport.chronosBinary }

    @Test func binaryReplaysStdinToStdoutAndRejectsBadConfigurationWithExitCode2() throws {
        let binary = try #require(Self.chronosBinary, "build the chronos executable first (swift build)")
        let input = Data(
            """
            {"op":"new","id":1,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","price":10050,"qty":100}
            not json
            {"op":"book","symbol":"AAPL"}
            """.utf8)
        let result = try DifferentialTests.run([binary.path, "replay"], input: input)
        #expect(result.status == 0)
        #expect(
            String(decoding: result.out, as: UTF8.self) == """
                {"ev":"accepted","id":1}
                {"ev":"rejected","id":null,"reason":"malformed"}
                {"ev":"book","symbol":"AAPL","bids":[[10050,100,1]],"asks":[]}

                """)

        let config = FileManager.default.temporaryDirectory.appendingPathComponent("chronos-\(UUID()).toml")
        try Data(
            """
            [[symbols]]
            name = "AAPL"
            tick_size = 0
            colour = "red"
            """.utf8
        ).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let bad = try DifferentialTests.run([binary.path, "replay", "--config", config.path], input: Data())
        #expect(bad.status == 2)
        let message = String(decoding: bad.err, as: UTF8.self)
        #expect(message.contains("symbols[0].tick_size"))
        #expect(message.contains("symbols[0].colour: unknown key"))
    }

    @Test func configuredSymbolsApplyTheirLimitsAndOthersAreUnknown() throws {
        let configuration = try ExchangeConfigurationFixture.twoSymbols()
        let input = Array(
            """
            {"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":10051,"qty":100}
            {"op":"new","id":2,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":10050,"qty":150}
            {"op":"new","id":3,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":10050,"qty":100}
            {"op":"new","id":4,"account":"A","symbol":"MSFT","side":"buy","type":"limit","price":10050,"qty":100}
            {"op":"new","id":5,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":200000,"qty":100}
            {"op":"cancel","id":3,"account":"A","symbol":"TSLA"}
            {"op":"book","symbol":"TSLA"}

            """.utf8)
        let output = String(decoding: try ReplaySession.replay(input, configuration: configuration), as: UTF8.self)
        #expect(
            output == """
                {"ev":"rejected","id":1,"reason":"invalid_price"}
                {"ev":"rejected","id":2,"reason":"invalid_qty"}
                {"ev":"accepted","id":3}
                {"ev":"accepted","id":4}
                {"ev":"rejected","id":5,"reason":"invalid_price"}
                {"ev":"rejected","id":3,"reason":"unknown_symbol"}
                {"ev":"rejected","id":null,"reason":"unknown_symbol"}

                """)
    }
}

enum ExchangeConfigurationFixture {
    static func twoSymbols() throws -> ExchangeConfiguration {
        try ExchangeConfiguration.parse(
            toml: """
                [engine]
                order_capacity = 1000

                [[symbols]]
                name = "AAPL"
                tick_size = 5
                lot_size = 100
                max_price = 100000

                [[symbols]]
                name = "MSFT"
                """)
    }
}

extension ReplayStreamTests {
    @Test func eventsAreWrittenBeforeWaitingForTheNextCommand() throws {
        let binary = try #require(Self.chronosBinary, "build the chronos executable first (swift build)")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["replay"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // A hang guard, not a timing assertion: if the answer never comes, ending the process
        // makes the read below return empty and the test fail instead of hanging.
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { if process.isRunning { process.terminate() } }
        stdin.fileHandleForWriting.write(Data(#"{"op":"book","symbol":"S"}"#.utf8 + [0x0A]))
        // Reading blocks until the answer arrives: it must come while stdin is still open.
        let answer = stdout.fileHandleForReading.availableData
        #expect(String(decoding: answer, as: UTF8.self) == #"{"ev":"book","symbol":"S","bids":[],"asks":[]}"# + "\n")
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

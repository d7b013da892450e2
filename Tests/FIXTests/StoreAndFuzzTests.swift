import AllocCounter
import Foundation
import Testing

@testable import FIX

@Suite struct FileStoreTests {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("fixstore-\(UInt64.random(in: 0...UInt64.max))")
    }

    @Test func survivesReopen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let store = try FIXFileStore(directory: directory)
            store.nextSenderMsgSeqNum = 4
            store.nextTargetMsgSeqNum = 7
            store.store(seq: 2, bytes: raw("message two|"))
            store.store(seq: 3, bytes: raw("message three|"))
            #expect(store.lastError == nil)
        }
        let reopened = try FIXFileStore(directory: directory)
        #expect(reopened.nextSenderMsgSeqNum == 4)
        #expect(reopened.nextTargetMsgSeqNum == 7)
        let stored = reopened.messages(in: 1...10)
        #expect(stored.map(\.seq) == [2, 3])
        #expect(stored.map { text($0.bytes) } == ["message two|", "message three|"])
        #expect(reopened.messages(in: 3...3).map(\.seq) == [3])
        reopened.reset()
        let afterReset = try FIXFileStore(directory: directory)
        #expect(afterReset.nextSenderMsgSeqNum == 1)
        #expect(afterReset.messages(in: 1...10).isEmpty)
    }

    @Test func toleratesTruncatedTail() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let store = try FIXFileStore(directory: directory)
            store.store(seq: 1, bytes: raw("first|"))
            store.store(seq: 2, bytes: raw("second message|"))
        }
        let file = directory.appendingPathComponent("messages")
        let data = try Data(contentsOf: file)
        try data.prefix(data.count - 5).write(to: file)
        let reopened = try FIXFileStore(directory: directory)
        #expect(reopened.messages(in: 1...5).map(\.seq) == [1])
        reopened.store(seq: 2, bytes: raw("again|"))
        let third = try FIXFileStore(directory: directory)
        #expect(third.messages(in: 1...5).map { text($0.bytes) } == ["first|", "again|"])
    }

    @Test func sessionResendsAfterRestart() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let harness = SessionHarness(store: try FIXFileStore(directory: directory))
            harness.logon()
            var report = FIXOutboundMessage(msgType: "8")
            report.append(37, "O1")
            _ = harness.session.sendApplication(report, replyingTo: nil, now: harness.now)
        }
        let harness = SessionHarness(store: try FIXFileStore(directory: directory))
        #expect(harness.session.nextSenderMsgSeqNum == 3)
        #expect(harness.session.nextTargetMsgSeqNum == 2)
        harness.client("8=FIX.4.4|35=A|34=2|49=TW|52=<TIME>|56=ISLD|98=0|108=30|")
        #expect(
            harness.client("8=FIX.4.4|35=2|34=3|49=TW|52=<TIME>|56=ISLD|7=2|16=2|") == [
                "out:8=FIX.4.4|35=8|34=2|43=Y|49=ISLD|56=TW|37=O1"
            ])
    }
}

@Suite struct RobustnessTests {
    /// A small deterministic generator (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    @Test func framerAndSessionNeverTrapOnRandomOrMutatedBytes() {
        var random = Random(state: 0xF1F4_4)
        let time = FIXTimestamp.string(SessionHarness.start)
        let seeds: [[UInt8]] = [
            fix("8=FIX.4.4|35=A|34=1|49=TW|52=\(time)|56=ISLD|98=0|108=30|"),
            fix("8=FIX.4.4|35=D|34=2|49=TW|52=\(time)|56=ISLD|11=ID|21=3|40=1|54=1|55=INTC|60=\(time)|453=1|448=A|"),
            fix("8=FIX.4.4|35=2|34=3|49=TW|52=\(time)|56=ISLD|7=1|16=0|"),
            fix("8=FIX.4.4|35=4|34=4|49=TW|52=\(time)|56=ISLD|36=9|123=Y|"),
            fix("8=FIX.4.4|35=1|34=5|43=Y|49=TW|52=\(time)|122=\(time)|56=ISLD|112=X|95=2|96=a|b|"),
        ]
        let alphabet = raw("0123456789=|-.AYN8FIX")
        var delivered = 0
        for round in 0..<3000 {
            var input: [UInt8] = []
            if round % 5 == 0 {
                for _ in 0..<random.below(300) { input.append(UInt8(truncatingIfNeeded: random.next())) }
            } else {
                input = seeds[0]
                for _ in 0..<(1 + random.below(4)) { input += seeds[1 + random.below(seeds.count - 1)] }
                for _ in 0..<random.below(6) where input.count > seeds[0].count {
                    let position = seeds[0].count + random.below(input.count - seeds[0].count)
                    switch random.below(4) {
                    case 0: input[position] = alphabet[random.below(alphabet.count)]
                    case 1: input.remove(at: position)
                    case 2: input.insert(alphabet[random.below(alphabet.count)], at: position)
                    default: input[position] = UInt8(truncatingIfNeeded: random.next())
                    }
                }
            }
            let store = FIXMemoryStore()
            let session = try! FIXSession(
                configuration: FIXSessionConfiguration(senderCompID: "ISLD", targetCompID: "TW"), store: store)
            session.connected(now: SessionHarness.start)
            var framer = FIXFramer(maxMessageSize: 512)
            var offset = 0
            while offset < input.count {
                let length = 1 + random.below(64)
                let chunk = Array(input[offset..<min(input.count, offset + length)])
                offset += length
                chunk.withUnsafeBytes { framer.append($0) }
                while let frame = framer.next() {
                    for action in session.receive(frame, now: SessionHarness.start) {
                        if case .deliver = action { delivered += 1 }
                    }
                }
                _ = session.timerTick(now: SessionHarness.start + Int64(random.below(100)) * 1_000_000_000)
            }
            #expect(framer.bufferedByteCount <= 2 * 512 + 64)
        }
        #expect(delivered > 0)
    }

    @Test func parseAndEncodeAllocateLittle() {
        guard alloc_counter_available() == 1 else { return }
        let order = fix(
            "8=FIX.4.4|35=D|34=2|49=TW|52=20240102-03:04:05.000|56=ISLD|11=ID|21=1|38=100|40=2|44=101.25|54=1|"
                + "55=INTC|60=20240102-03:04:05|")
        var framer = FIXFramer()
        var out: [UInt8] = []
        out.reserveCapacity(512)
        let header = FIXOutboundHeader(senderCompID: "ISLD", targetCompID: "TW", msgSeqNum: 2, sendingTime: 0)
        var report = FIXOutboundMessage(msgType: "8", capacity: 256)
        report.append(37, "O-1")
        // Warm up.
        framer.append(order)
        _ = framer.next()
        alloc_counter_begin()
        var total = 0
        for _ in 0..<100 {
            order.withUnsafeBytes { framer.append($0) }
            if case .message(let message) = framer.next() {
                total &+= Int(message.decimal(44)?.scaled(toDecimals: 2) ?? 0) &+ (message.msgSeqNum ?? 0)
            }
            out.removeAll(keepingCapacity: true)
            FIXEncoder.encode(msgType: report.msgType, body: report.body, header: header, into: &out)
        }
        let allocations = alloc_counter_end()
        #expect(total > 0)
        #if !DEBUG
            // Per parse: the frame bytes and the field table; encoding into a reserved buffer: none. (Debug builds
            // allocate in unspecialized generic code, so the bound holds in release builds only.)
            #expect(allocations <= 100 * 4, "\(allocations) allocations for 100 parse+encode")
        #endif
    }
}

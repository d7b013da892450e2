import AllocCounter
import Foundation
import Messaging
import Testing

/// The ZeroMQ wrapper against real libzmq sockets (inproc, ipc, tcp on loopback).
@Suite struct MessagingTests {
    let context: ZMQContext

    init() throws { context = try ZMQContext() }

    private func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8))" }

    @Test func pushPullDeliversMessagesInOrderOverEveryTransport() throws {
        let ipcPath = FileManager.default.temporaryDirectory.appendingPathComponent(unique("chronos")).path
        defer { try? FileManager.default.removeItem(atPath: ipcPath) }
        for endpoint in ["inproc://\(unique("pp"))", "ipc://\(ipcPath)", "tcp://127.0.0.1:*"] {
            let pull = try ZMQSocket(context, .pull)
            try pull.bind(endpoint)
            let push = try ZMQSocket(context, .push)
            try push.connect(endpoint.hasPrefix("tcp") ? try pull.lastEndpoint() : endpoint)
            for i in 0..<100 { try push.send(Array("message \(i)".utf8)) }
            for i in 0..<100 { #expect(try pull.receiveBytes() == Array("message \(i)".utf8), "\(endpoint)") }
            push.close()
            pull.close()
        }
    }

    @Test func routerRepliesToTheDealerThatAsked() throws {
        let endpoint = "inproc://\(unique("rd"))"
        let router = try ZMQSocket(context, .router)
        try router.setRouterMandatory(true)
        try router.bind(endpoint)
        var dealers: [ZMQSocket] = []
        for name in ["gw-a", "gw-b"] {
            let dealer = try ZMQSocket(context, .dealer)
            try dealer.setRoutingID(Array(name.utf8))
            try dealer.connect(endpoint)
            try dealer.send(Array("from \(name)".utf8))
            dealers.append(dealer)
        }
        for _ in 0..<2 {
            let identity = try #require(try router.receiveBytes())
            #expect(router.hasMoreParts)
            let body = try #require(try router.receiveBytes())
            #expect(!router.hasMoreParts)
            #expect(body == Array("from ".utf8) + identity)
            try router.send(identity, more: true)
            try router.send(Array("reply to ".utf8) + identity)
        }
        #expect(try dealers[0].receiveBytes() == Array("reply to gw-a".utf8))
        #expect(try dealers[1].receiveBytes() == Array("reply to gw-b".utf8))
        // Mandatory routing: an unknown peer is an error, not a silent drop.
        #expect(throws: ZMQError.self) {
            try router.send(Array("nobody".utf8), more: true)
            try router.send([1])
        }
    }

    @Test func nonBlockingReceiveOnAnEmptySocketWouldBlock() throws {
        let pull = try ZMQSocket(context, .pull)
        try pull.bind("inproc://\(unique("empty"))")
        var buffer = [UInt8](repeating: 0, count: 16)
        let outcome = try buffer.withUnsafeMutableBytes { try pull.receive(into: $0, dontWait: true) }
        #expect(outcome == .wouldBlock)
        try pull.setReceiveTimeout(milliseconds: 10)
        let timed = try buffer.withUnsafeMutableBytes { try pull.receive(into: $0) }
        #expect(timed == .wouldBlock)
    }

    @Test func oversizedMessageIsTruncatedToTheBufferAndReportsItsSize() throws {
        let endpoint = "inproc://\(unique("trunc"))"
        let pull = try ZMQSocket(context, .pull)
        try pull.bind(endpoint)
        let push = try ZMQSocket(context, .push)
        try push.connect(endpoint)
        try push.send([UInt8](repeating: 7, count: 100))
        var buffer = [UInt8](repeating: 0, count: 10)
        let outcome = try buffer.withUnsafeMutableBytes { try pull.receive(into: $0) }
        #expect(outcome == .received(byteCount: 100, truncated: true))
        #expect(buffer == [UInt8](repeating: 7, count: 10))
    }

    @Test func publisherReachesSubscribersOfItsPrefixOnly() throws {
        let endpoint = "inproc://\(unique("pub"))"
        let publisher = try ZMQSocket(context, .publisher)
        try publisher.bind(endpoint)
        let everything = try ZMQSocket(context, .subscriber)
        try everything.subscribe()
        try everything.connect(endpoint)
        let onlyA = try ZMQSocket(context, .subscriber)
        try onlyA.subscribe(Array("A".utf8))
        try onlyA.connect(endpoint)
        // Subscriptions travel asynchronously: publish until both have seen a first message.
        var warm = false
        for _ in 0..<2_000 where !warm {
            try publisher.send(Array("A-warm".utf8))
            usleep(1_000)
            let a = try everything.receiveBytes(dontWait: true)
            let b = try onlyA.receiveBytes(dontWait: true)
            warm = a != nil && b != nil
        }
        try #require(warm)
        try onlyA.setReceiveTimeout(milliseconds: 50)
        try everything.setReceiveTimeout(milliseconds: 1_000)
        while try onlyA.receiveBytes(dontWait: true) != nil {}
        while try everything.receiveBytes(dontWait: true) != nil {}
        try publisher.send(Array("B-1".utf8))
        try publisher.send(Array("A-2".utf8))
        #expect(try everything.receiveBytes() == Array("B-1".utf8))
        #expect(try everything.receiveBytes() == Array("A-2".utf8))
        #expect(try onlyA.receiveBytes() == Array("A-2".utf8))
    }

    @Test func pollerReportsWhichSocketIsReadable() throws {
        let a = try ZMQSocket(context, .pull), b = try ZMQSocket(context, .pull)
        let ea = "inproc://\(unique("pa"))", eb = "inproc://\(unique("pb"))"
        try a.bind(ea)
        try b.bind(eb)
        let poller = ZMQPoller([a, b])
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)
        let push = try ZMQSocket(context, .push)
        try push.connect(eb)
        try push.send([42])
        #expect(try poller.poll(timeoutMilliseconds: 1_000) == 1)
        #expect(!poller.isReadable(0))
        #expect(poller.isReadable(1))
    }

    @Test func closeIsIdempotentAndAClosedSocketGivesATypedError() throws {
        let socket = try ZMQSocket(context, .push)
        socket.close()
        socket.close()
        #expect(!socket.isOpen)
        #expect(throws: ZMQError(function: "zmq_send", code: ENOTSOCK)) { try socket.send([1]) }
    }

    @Test func badEndpointsAreTypedErrors() throws {
        let socket = try ZMQSocket(context, .pull)
        #expect(throws: ZMQError.self) { try socket.bind("nonsense://x") }
        #expect(throws: ZMQError.self) { try socket.connect("tcp://") }
        let taken = try ZMQSocket(context, .pull)
        try taken.bind("tcp://127.0.0.1:*")
        let endpoint = try taken.lastEndpoint()
        do {
            try socket.bind(endpoint)
            Issue.record("binding a taken port must fail")
        } catch {
            #expect(error.code == EADDRINUSE)
            #expect(error.description.contains("zmq_bind"))
        }
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func sendAndReceiveOfSmallFramesDoNotAllocateInTheWrapper() throws {
        let endpoint = "inproc://\(unique("alloc"))"
        let pull = try ZMQSocket(context, .pull)
        try pull.bind(endpoint)
        let push = try ZMQSocket(context, .push)
        try push.connect(endpoint)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 8)
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 8)
        defer {
            out.deallocate()
            input.deallocate()
        }
        out.initializeMemory(as: UInt8.self, repeating: 3)
        func roundTrips() throws {
            for _ in 0..<1_000 {
                try push.send(UnsafeRawBufferPointer(out))
                _ = try pull.receive(into: input)
            }
        }
        try roundTrips()
        alloc_counter_begin()
        try roundTrips()
        // Messages up to 33 bytes are stored inline by libzmq: nothing on this thread allocates.
        #expect(alloc_counter_end() == 0)
    }
}

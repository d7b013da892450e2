import Benchmark
import BinaryProtocol
import FIX

// The gateway's per-message protocol work, 1,000 messages per iteration (results per message):
// FIX parse (framing + field access of a NewOrderSingle) and encode (an ExecutionReport with header
// and trailer), and the binary protocol's decode and encode. Mallocs are gated: the binary codec
// must allocate nothing; the FIX path's committed counts (Thresholds/GatewayBench.*) catch any
// regression.

private let newOrderSingle: [UInt8] = {
    var body = FIXOutboundMessage(msgType: "D")
    body.append(11, "ORDER-000001")
    body.append(1, "1")
    body.append(55, "AAPL")
    body.append(54, "1")
    body.append(60, "20261125-12:00:00.000")
    body.append(38, "100")
    body.append(40, "2")
    body.append(44, "150.25")
    body.append(59, "0")
    let header = FIXOutboundHeader(
        senderCompID: "CLIENT1", targetCompID: "CHRONOS", msgSeqNum: 42, sendingTime: 1_795_608_000_000_000_000)
    return FIXEncoder.encode(body, header: header)
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    Benchmark("fix-parse-new-order-single") { benchmark in
        var framer = FIXFramer(maxMessageSize: 4096)
        for _ in benchmark.scaledIterations {
            newOrderSingle.withUnsafeBytes { framer.append($0) }
            guard case .message(let message)? = framer.next() else { fatalError("not framed") }
            blackHole(message.string(11))
            blackHole(message.decimal(44)?.scaled(toDecimals: 2))
            blackHole(message.decimal(38)?.scaled(toDecimals: 0))
            blackHole(message.msgSeqNum)
        }
    }

    Benchmark("fix-encode-execution-report") { benchmark in
        var seq = 1
        for _ in benchmark.scaledIterations {
            var m = FIXOutboundMessage(msgType: "8")
            m.append(37, "281474976710657")
            m.append(11, "ORDER-000001")
            m.append(17, "281474976710657-42")
            m.append(150, "F")
            m.append(39, "1")
            m.append(1, "1")
            m.append(55, "AAPL")
            m.append(54, "1")
            m.append(38, "100")
            m.append(40, "2")
            m.append(44, "150.25")
            m.append(32, "40")
            m.append(31, "150.25")
            m.append(151, "60")
            m.append(14, "40")
            m.append(6, "150.250000")
            m.append(60, "20261125-12:00:00.000")
            seq += 1
            let header = FIXOutboundHeader(
                senderCompID: "CHRONOS", targetCompID: "CLIENT1", msgSeqNum: seq, sendingTime: 1_795_608_000_000_000_000
            )
            blackHole(FIXEncoder.encode(m, header: header))
        }
    }

    Benchmark("binary-decode-new-order") { benchmark in
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        let order = ClientMessage.newOrder(
            NewOrderRequest(
                clientOrderID: 1, account: 101, symbol: SymbolCode("AAPL")!, side: .buy, price: 15_025, quantity: 100))
        let n = order.encode(into: buffer)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(ClientMessage.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
        }
    }

    Benchmark("binary-encode-fill") { benchmark in
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let fill = ServerMessage.fill(
                FillReport(
                    clientOrderID: UInt64(i), exchangeOrderID: 7, tradeID: UInt64(i), side: .buy, price: 15_025,
                    quantity: 40, leavesQuantity: 60, cumulativeQuantity: 40))
            blackHole(fill.encode(into: buffer))
        }
    }
}

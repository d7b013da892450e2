import ChronosCore
import MarketData
import Testing
import Workload

/// The market-data frames (docs/wire-format.md): layouts pinned by golden bytes, every message
/// round-trips, malformed input gives its error, random bytes never trap.
@Suite struct MarketDataFrameTests {
    static func encode(_ frame: MarketDataFrame) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xEE, count: MarketDataFrameType.maxFrameSize)
        let count = bytes.withUnsafeMutableBytes { (try? frame.encode(into: $0).get()) ?? 0 }
        return Array(bytes[0..<count])
    }

    static func decode(_ bytes: [UInt8]) -> Result<MarketDataFrame, MarketDataFrameError> {
        bytes.withUnsafeBytes { MarketDataFrame.decode($0) }
    }

    static let samples: [MarketDataFrame] = [
        MarketDataFrame(
            shard: 1,
            message: .update(
                .level(
                    LevelUpdate(
                        symbol: SymbolID(3), sequence: 7, eventSequence: 70, action: .change, side: .sell, price: -5,
                        quantity: 300, orderCount: 2)))),
        MarketDataFrame(
            message: .update(
                .trade(
                    TradeUpdate(
                        symbol: SymbolID(1), sequence: 8, eventSequence: 71, tradeID: TradeID(9), price: 101,
                        quantity: 4, aggressorSide: .buy)))),
        MarketDataFrame(
            message: .update(
                .bestBidOffer(
                    BestBidOfferUpdate(
                        symbol: SymbolID(1), sequence: 9, eventSequence: 71,
                        bestBid: LevelSummary(price: 100, quantity: 5, orderCount: 1), bestOffer: nil)))),
        MarketDataFrame(
            message: .update(
                .bestBidOffer(
                    BestBidOfferUpdate(
                        symbol: SymbolID(1), sequence: 10, eventSequence: 72, bestBid: nil,
                        bestOffer: LevelSummary(price: 102, quantity: 6, orderCount: 3))))),
        MarketDataFrame(
            message: .heartbeat(MarketDataHeartbeat(symbol: SymbolID(2), lastSequence: 11, eventSequence: 90))),
        MarketDataFrame(
            message: .heartbeat(
                MarketDataHeartbeat(symbol: SymbolID(2), lastSequence: 11, eventSequence: 90, impaired: true))),
        MarketDataFrame(message: .snapshotRequest(SnapshotRequest(requestID: 5, symbol: SymbolID(4), depth: 10))),
        MarketDataFrame(
            message: .snapshot(
                SnapshotHeader(
                    requestID: 5, status: .ok, symbol: SymbolID(4), sequence: 12, eventSequence: 99, bidCount: 2,
                    offerCount: 1, isComplete: true, impaired: false))),
        MarketDataFrame(message: .snapshot(SnapshotHeader(requestID: 6, status: .unknownSymbol, symbol: SymbolID(77)))),
    ]

    @Test func typesAreFreeInTheEngineWireFormatAndSizesAreFixed() {
        for type in MarketDataFrameType.allCases {
            #expect(WireMessageType(rawValue: type.rawValue) == nil, "\(type) collides with an engine frame type")
            #expect(type.frameSize % 8 == 0 && type.frameSize <= MarketDataFrameType.maxFrameSize)
        }
        #expect(MarketDataFrameType.allCases.map(\.frameSize).max() == MarketDataFrameType.maxFrameSize)
    }

    @Test func levelGoldenBytes() {
        let bytes = Self.encode(Self.samples[0])
        #expect(
            bytes == [
                1, 11, 56, 0, 1, 0, 0, 0,  // header: version, type 11, length 56, shard 1, flags
                7, 0, 0, 0, 0, 0, 0, 0,  // sequence
                70, 0, 0, 0, 0, 0, 0, 0,  // eventSequence
                0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // price -5
                0x2C, 1, 0, 0, 0, 0, 0, 0,  // quantity 300
                3, 0, 0, 0,  // symbol
                2, 0, 0, 0,  // orderCount
                1, 1,  // side sell, action change
                0, 0, 0, 0, 0, 0,  // padding
            ])
    }

    @Test func everySampleRoundTrips() throws {
        for frame in Self.samples {
            let bytes = Self.encode(frame)
            #expect(bytes.count == frame.type.frameSize)
            #expect(try Self.decode(bytes).get() == frame)
        }
    }

    @Test func malformedFramesGiveTheirError() {
        let good = Self.encode(Self.samples[0])
        #expect(throws: MarketDataFrameError.tooShort(needed: 8, actual: 3)) { try Self.decode([1, 11, 56]).get() }
        var bytes = good
        bytes[0] = 2
        #expect(throws: MarketDataFrameError.badVersion(2)) { try Self.decode(bytes).get() }
        bytes = good
        bytes[1] = 4  // an engine event frame is not market data
        #expect(throws: MarketDataFrameError.unknownType(4)) { try Self.decode(bytes).get() }
        bytes = good
        bytes[2] = 48
        #expect(throws: MarketDataFrameError.badLength(declared: 48, expected: 56)) { try Self.decode(bytes).get() }
        #expect(throws: MarketDataFrameError.tooShort(needed: 56, actual: 40)) {
            try Self.decode(Array(good[0..<40])).get()
        }
        #expect(throws: MarketDataFrameError.trailingBytes(expected: 56, actual: 57)) {
            try Self.decode(good + [0]).get()
        }
        bytes = good
        bytes[49] = 3
        #expect(throws: MarketDataFrameError.badEnum(field: "levelAction", value: 3)) { try Self.decode(bytes).get() }
        bytes = good
        bytes[55] = 1
        #expect(throws: MarketDataFrameError.nonZeroReserved(offset: 55)) { try Self.decode(bytes).get() }
        // An absent best offer must be all zero.
        var top = Self.encode(Self.samples[2])
        top[40] = 1
        #expect(throws: MarketDataFrameError.nonZeroReserved(offset: 40)) { try Self.decode(top).get() }
        var small = [UInt8](repeating: 0, count: 10)
        let result = small.withUnsafeMutableBytes { Self.samples[0].encode(into: $0) }
        #expect(throws: MarketDataFrameError.bufferTooSmall(needed: 56, available: 10)) { try result.get() }
    }

    @Test func randomBytesNeverTrapAndWhatDecodesEncodesBack() {
        var rng = SplitMix64(seed: 77)
        var decoded = 0
        for i in 0..<200_000 {
            // Valid headers half the time, so that bodies are exercised.
            let type = MarketDataFrameType.allCases[Int(rng.next() % 6)]
            let count = i % 2 == 0 ? type.frameSize : Int(rng.next() % 80)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next() % 4 == 0 ? rng.next() : 0) }
            if i % 2 == 0 {
                bytes[0] = 1
                bytes[1] = type.rawValue
                bytes[2] = UInt8(type.frameSize)
                bytes[3] = 0
                bytes[6] = 0
                bytes[7] = 0
            }
            if case .success(let frame) = Self.decode(bytes) {
                decoded += 1
                #expect(Self.encode(frame) == bytes)
            }
        }
        #expect(decoded > 1_000)
    }

    @Test func aSnapshotIsRebuiltFromItsHeaderAndLevels() {
        let snapshot = MarketDataSnapshot(
            symbol: SymbolID(4), sequence: 12, eventSequence: 99,
            bids: [
                LevelSummary(price: 100, quantity: 5, orderCount: 1),
                LevelSummary(price: 99, quantity: 1, orderCount: 1),
            ],
            offers: [LevelSummary(price: 101, quantity: 2, orderCount: 2)])
        let header = SnapshotHeader(snapshot, requestID: 3, impaired: false)
        let levels = [(Side.buy, snapshot.bids[0]), (.buy, snapshot.bids[1]), (.sell, snapshot.offers[0])].map {
            header.levelUpdate($0.0, $0.1)
        }
        #expect(MarketDataSnapshot(header, levels: levels) == snapshot)
        #expect(MarketDataSnapshot(header, levels: Array(levels.dropLast())) == nil)
        #expect(MarketDataSnapshot(header, levels: levels.reversed()) == nil)
        #expect(MarketDataTopic.bytes("AAPL") == [65, 65, 80, 76, 0])
        #expect(MarketDataTopic.bytes("AAPL").withUnsafeBytes { MarketDataTopic.name($0) } == "AAPL")
    }
}

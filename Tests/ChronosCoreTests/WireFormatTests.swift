import AllocCounter
import ChronosCore
import Testing

/// The internal wire format (docs/wire-format.md): layouts pinned by golden bytes, every message
/// round-trips, every malformed input gives its typed error, random bytes never trap, and
/// encoding and decoding never allocate.
@Suite struct WireFormatTests {
    // MARK: - Sizes

    @Test func everyTypeHasItsDocumentedFixedSize() {
        let sizes: [WireMessageType: Int] = [
            .newOrder: 56, .cancel: 32, .replace: 56, .event: 96, .trade: 48, .bookDelta: 48, .heartbeat: 32,
            .replayRequest: 24, .replayResponse: 32, .riskDecision: 32,
        ]
        #expect(sizes.count == WireMessageType.allCases.count)
        for type in WireMessageType.allCases {
            #expect(WireMessage.size(of: type) == sizes[type])
            #expect(type.frameSize % 8 == 0, "frames keep 8-byte fields aligned when the frame is")
            #expect(type.frameSize <= WireFormat.maxFrameSize)
        }
        #expect(WireMessageType.allCases.map(\.frameSize).max() == WireFormat.maxFrameSize)
        #expect(WireMessageType.allCases.map(\.rawValue) == Array(1...10))
        #expect(WireFormat.headerSize == 8)
        #expect(WireFormat.version == 1)
    }

    // MARK: - Golden bytes

    @Test func newOrderGoldenBytes() {
        let order = NewOrder(
            id: OrderID(0x0102_0304_0506_0708), account: AccountID(0x1122_3344), symbol: SymbolID(0x5566_7788),
            side: .sell, type: .limit, timeInForce: .immediateOrCancel, price: -2, quantity: 300, postOnly: true)
        expectGolden(
            WireFrame(shard: 3, message: .newOrder(order, clientTimestampNanos: 0x1122_3344_5566_7788)),
            """
            01 01 38 00 03 00 00 00
            08 07 06 05 04 03 02 01
            FE FF FF FF FF FF FF FF
            2C 01 00 00 00 00 00 00
            88 77 66 55 44 33 22 11
            44 33 22 11
            88 77 66 55
            01 00 01 01
            00 00 00 00
            """)
    }

    @Test func cancelGoldenBytes() {
        let cancel = CancelOrder(id: OrderID(42), account: AccountID(7), symbol: SymbolID(9))
        expectGolden(
            WireFrame(shard: 0x0102, message: .cancel(cancel, clientTimestampNanos: 1_000_000_000)),
            """
            01 02 20 00 02 01 00 00
            2A 00 00 00 00 00 00 00
            00 CA 9A 3B 00 00 00 00
            07 00 00 00
            09 00 00 00
            """)
    }

    @Test func replaceGoldenBytes() {
        let priceOnly = ReplaceOrder(id: OrderID(5), account: AccountID(1), symbol: SymbolID(2), price: 10_050)
        expectGolden(
            WireFrame(message: .replace(priceOnly, clientTimestampNanos: 0)),
            """
            01 03 38 00 00 00 00 00
            05 00 00 00 00 00 00 00
            42 27 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            01 00 00 00
            02 00 00 00
            01
            00 00 00 00 00 00 00
            """)
        let quantityOnly = ReplaceOrder(id: OrderID(5), account: AccountID(1), symbol: SymbolID(2), quantity: -1)
        expectGolden(
            WireFrame(message: .replace(quantityOnly, clientTimestampNanos: 0)),
            """
            01 03 38 00 00 00 00 00
            05 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            FF FF FF FF FF FF FF FF
            00 00 00 00 00 00 00 00
            01 00 00 00
            02 00 00 00
            02
            00 00 00 00 00 00 00
            """)
    }

    @Test func fillEventGoldenBytes() {
        let fill = Fill(
            sequence: 0x0A0B, tradeID: TradeID(77), symbol: SymbolID(3), takerID: OrderID(1_001),
            makerID: OrderID(999), takerAccount: AccountID(5), makerAccount: AccountID(6), takerSide: .sell,
            price: 10_000, quantity: 25, takerLeaves: 0, makerLeaves: .max)
        expectGolden(
            WireFrame(shard: 1, message: .event(.fill(fill), clientTimestampNanos: 123_456_789)),
            """
            01 04 60 00 01 00 00 00
            0B 0A 00 00 00 00 00 00
            15 CD 5B 07 00 00 00 00
            02 01 00 00
            03 00 00 00
            4D 00 00 00 00 00 00 00
            E9 03 00 00 00 00 00 00
            E7 03 00 00 00 00 00 00
            10 27 00 00 00 00 00 00
            19 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            FF FF FF FF FF FF FF 7F
            05 00 00 00
            06 00 00 00
            """)
    }

    @Test func acceptedEventGoldenBytes() {
        let accepted = OrderAccepted(
            sequence: 1, id: OrderID(.max), account: AccountID(.max), symbol: SymbolID(256), side: .buy,
            type: .market, timeInForce: .fillOrKill, postOnly: false, price: 0, quantity: 1)
        expectGolden(
            WireFrame(message: .event(.accepted(accepted), clientTimestampNanos: 0)),
            """
            01 04 60 00 00 00 00 00
            01 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            00 00 01 02
            00 01 00 00
            FF FF FF FF FF FF FF FF
            00 00 00 00 00 00 00 00
            01 00 00 00 00 00 00 00
            FF FF FF FF
            00
            \(zeros(35))
            """)
    }

    @Test func rejectedEventGoldenBytes() {
        let rejected = OrderRejected(
            sequence: 2, id: OrderID(8), account: AccountID(9), symbol: SymbolID(4), command: .replace,
            reason: .notOwner)
        expectGolden(
            WireFrame(message: .event(.rejected(rejected), clientTimestampNanos: 0x10)),
            """
            01 04 60 00 00 00 00 00
            02 00 00 00 00 00 00 00
            10 00 00 00 00 00 00 00
            01 02 03 00
            04 00 00 00
            08 00 00 00 00 00 00 00
            09 00 00 00
            \(zeros(52))
            """)
    }

    @Test func canceledEventGoldenBytes() {
        let canceled = OrderCanceled(
            sequence: 3, id: OrderID(10), account: AccountID(2), symbol: SymbolID(1), side: .sell, quantity: 40,
            reason: .selfTradePrevention)
        expectGolden(
            WireFrame(message: .event(.canceled(canceled), clientTimestampNanos: 0)),
            """
            01 04 60 00 00 00 00 00
            03 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            03 01 03 00
            01 00 00 00
            0A 00 00 00 00 00 00 00
            28 00 00 00 00 00 00 00
            02 00 00 00
            \(zeros(44))
            """)
    }

    @Test func replacedEventGoldenBytes() {
        let replaced = OrderReplaced(
            sequence: 4, id: OrderID(11), account: AccountID(3), symbol: SymbolID(1), side: .buy, price: 99,
            quantity: 7, keptPriority: true)
        expectGolden(
            WireFrame(message: .event(.replaced(replaced), clientTimestampNanos: 0)),
            """
            01 04 60 00 00 00 00 00
            04 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            04 00 01 00
            01 00 00 00
            0B 00 00 00 00 00 00 00
            63 00 00 00 00 00 00 00
            07 00 00 00 00 00 00 00
            03 00 00 00
            \(zeros(36))
            """)
    }

    @Test func tradeGoldenBytes() {
        let trade = PublicTrade(
            sequence: 0x0102, tradeID: TradeID(3), symbol: SymbolID(2), price: 15_000, quantity: 100,
            aggressorSide: .buy)
        expectGolden(
            WireFrame(message: .trade(trade)),
            """
            01 05 30 00 00 00 00 00
            02 01 00 00 00 00 00 00
            03 00 00 00 00 00 00 00
            98 3A 00 00 00 00 00 00
            64 00 00 00 00 00 00 00
            02 00 00 00
            00 00 00 00
            """)
    }

    @Test func bookDeltaGoldenBytes() {
        let delta = BookDelta(
            sequence: 9, symbol: SymbolID(1), side: .sell, price: 9_999, quantity: 0, orderCount: 0x0102_0304)
        expectGolden(
            WireFrame(message: .bookDelta(delta)),
            """
            01 06 30 00 00 00 00 00
            09 00 00 00 00 00 00 00
            0F 27 00 00 00 00 00 00
            00 00 00 00 00 00 00 00
            01 00 00 00
            04 03 02 01
            01 00 00 00 00 00 00 00
            """)
    }

    @Test func heartbeatGoldenBytes() {
        let heartbeat = Heartbeat(senderID: 0xDEAD_BEEF, sequence: 500, timestampNanos: 0x0102_0304_0506_0708)
        expectGolden(
            WireFrame(shard: 2, message: .heartbeat(heartbeat)),
            """
            01 07 20 00 02 00 00 00
            F4 01 00 00 00 00 00 00
            08 07 06 05 04 03 02 01
            EF BE AD DE
            00 00 00 00
            """)
    }

    @Test func replayRequestGoldenBytes() {
        expectGolden(
            WireFrame(shard: 1, message: .replayRequest(ReplayRequest(fromSequence: 100, toSequence: 200))),
            """
            01 08 18 00 01 00 00 00
            64 00 00 00 00 00 00 00
            C8 00 00 00 00 00 00 00
            """)
    }

    @Test func replayResponseGoldenBytes() {
        let response = ReplayResponse(status: .tooOld, firstSequence: 50, lastSequence: 0x1234, count: 0)
        expectGolden(
            WireFrame(shard: 1, message: .replayResponse(response)),
            """
            01 09 20 00 01 00 00 00
            32 00 00 00 00 00 00 00
            34 12 00 00 00 00 00 00
            00 00 00 00
            01 00 00 00
            """)
    }

    // MARK: - Round trips

    @Test func everyMessageRoundTripsWithEdgeValues() {
        var frames = 0
        for frame in Self.edgeFrames() {
            let bytes = encoded(frame)
            #expect(bytes.count == frame.message.frameSize)
            #expect(decoded(bytes) == .success(frame), "\(frame)")
            frames += 1
        }
        #expect(frames > 500)
    }

    @Test func everyEnumCaseRoundTrips() {
        // Enum bytes are what the edge-value sweep varies least; sweep them all, with shard extremes.
        var covered = Set<String>()
        for frame in Self.edgeFrames() {
            if case .event(let event, _) = frame.message {
                switch event {
                case .rejected(let e): covered.insert("reject \(e.reason) \(e.command)")
                case .canceled(let e): covered.insert("cancel \(e.reason) \(e.side)")
                case .replaced(let e): covered.insert("replaced \(e.keptPriority) \(e.side)")
                case .accepted(let e):
                    covered.insert("accepted \(e.side) \(e.type) \(e.timeInForce) \(e.postOnly)")
                case .fill(let e): covered.insert("fill \(e.takerSide)")
                }
            }
            if case .replayResponse(let r) = frame.message { covered.insert("replay \(r.status)") }
        }
        let expected =
            RejectReason.allCases.count * 3 + CancelReason.allCases.count * 2 + 2 * 2 + 2 * 2 * 3 * 2 + 2
            + ReplayStatus.allCases.count
        #expect(covered.count == expected)
    }

    @Test func encodeWritesOnlyTheFrameAndNeedsRoomForIt() {
        let frame = WireFrame(message: .heartbeat(Heartbeat(senderID: 1, sequence: 2, timestampNanos: 3)))
        var buffer = [UInt8](repeating: 0xAA, count: 40)
        let result = buffer.withUnsafeMutableBytes { frame.encode(into: $0) }
        #expect(result == .success(32))
        #expect(buffer[32...].allSatisfy { $0 == 0xAA })
        var small = [UInt8](repeating: 0xAA, count: 31)
        let tooSmall = small.withUnsafeMutableBytes { frame.encode(into: $0) }
        #expect(tooSmall == .failure(.bufferTooSmall(needed: 32, available: 31)))
        #expect(small.allSatisfy { $0 == 0xAA })
        let empty = frame.encode(into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        #expect(empty == .failure(.bufferTooSmall(needed: 32, available: 0)))
        // Any frame fits a max-size buffer.
        for sample in Self.samples {
            var max = [UInt8](repeating: 0, count: WireFormat.maxFrameSize)
            #expect(max.withUnsafeMutableBytes { sample.encode(into: $0) } == .success(sample.message.frameSize))
        }
    }

    @Test func encodingIsIndependentOfTheBufferAlignment() {
        let frame = Self.samples[3]
        let reference = encoded(frame)
        for start in 0..<8 {
            var buffer = [UInt8](repeating: 0x55, count: WireFormat.maxFrameSize + 8)
            let result = buffer.withUnsafeMutableBytes { frame.encode(into: .init(rebasing: $0[start...])) }
            #expect(result == .success(reference.count))
            let written = Array(buffer[start..<start + reference.count])
            #expect(written == reference)
            #expect(
                buffer.withUnsafeBytes { WireFrame.decode(.init(rebasing: $0[start..<start + written.count])) }
                    == .success(frame))
        }
    }

    // MARK: - Malformed frames

    @Test func truncatedFramesAreTooShort() {
        for frame in Self.samples {
            let bytes = encoded(frame)
            for length in 0..<bytes.count {
                let needed = length < WireFormat.headerSize ? WireFormat.headerSize : bytes.count
                #expect(decoded(Array(bytes[0..<length])) == .failure(.tooShort(needed: needed, actual: length)))
            }
        }
        #expect(
            WireFrame.decode(UnsafeRawBufferPointer(start: nil, count: 0)) == .failure(.tooShort(needed: 8, actual: 0)))
    }

    @Test func extraBytesAreTrailingBytes() {
        for frame in Self.samples {
            let bytes = encoded(frame)
            for extra in [1, 7, 8, 200] {
                let longer = bytes + [UInt8](repeating: 0, count: extra)
                #expect(
                    decoded(longer) == .failure(.trailingBytes(expected: bytes.count, actual: bytes.count + extra)))
            }
        }
    }

    @Test func anyOtherVersionIsRejectedBeforeAnythingElse() {
        for frame in Self.samples {
            for version in UInt8.min...UInt8.max where version != 1 {
                var bytes = encoded(frame)
                bytes[0] = version
                #expect(decoded(bytes) == .failure(.badVersion(version)))
                // Even a frame of any length: the version byte is all that is stable across versions.
                #expect(decoded(Array(bytes[0..<8]) + [1, 2, 3]) == .failure(.badVersion(version)))
            }
        }
    }

    @Test func unknownTypesAreRejected() {
        var bytes = encoded(Self.samples[0])
        for type in UInt8.min...UInt8.max where WireMessageType(rawValue: type) == nil {
            bytes[1] = type
            #expect(decoded(bytes) == .failure(.unknownType(type)))
        }
        #expect(decoded([1, 0, 8, 0, 0, 0, 0, 0]) == .failure(.unknownType(0)))
        #expect(decoded([1, 11, 8, 0, 0, 0, 0, 0]) == .failure(.unknownType(11)))
    }

    @Test func aLengthFieldOtherThanTheTypesSizeIsBadLength() {
        for frame in Self.samples {
            let bytes = encoded(frame)
            for declared in [0, 8, bytes.count - 1, bytes.count + 1, 96, 0xFFFF] where declared != bytes.count {
                var wrong = bytes
                wrong[2] = UInt8(truncatingIfNeeded: declared)
                wrong[3] = UInt8(truncatingIfNeeded: declared >> 8)
                #expect(decoded(wrong) == .failure(.badLength(declared: declared, expected: bytes.count)))
                // The length is checked against the type before the buffer is.
                #expect(
                    decoded(Array(wrong[0..<8])) == .failure(.badLength(declared: declared, expected: bytes.count)))
            }
            // Another type's length with that type's size of buffer is still wrong for this type.
            var swapped = bytes
            let other: WireMessageType = frame.message.type == .event ? .newOrder : .event
            swapped[1] = other.rawValue
            #expect(decoded(swapped) == .failure(.badLength(declared: bytes.count, expected: other.frameSize)))
        }
    }

    @Test func headerFlagsMustBeZero() {
        for frame in Self.samples {
            for offset in 6..<8 {
                for value: UInt8 in [1, 0x80, 0xFF] {
                    var bytes = encoded(frame)
                    bytes[offset] = value
                    #expect(decoded(bytes) == .failure(.nonZeroReserved(offset: offset)))
                }
            }
        }
    }

    @Test func everyReservedPaddingAndUnusedByteMustBeZero() {
        var checked = 0
        for frame in Self.samples {
            for offset in Self.reservedOffsets(frame) {
                for value: UInt8 in [1, 0x80, 0xFF] {
                    var bytes = encoded(frame)
                    #expect(bytes[offset] == 0)
                    bytes[offset] = value
                    #expect(
                        decoded(bytes) == .failure(.nonZeroReserved(offset: offset)), "\(frame.message.type) @\(offset)"
                    )
                    checked += 1
                }
            }
        }
        #expect(checked > 3 * 200)
    }

    @Test func everyOtherBodyByteIsAFieldThatRoundTrips() {
        // The complement of the reserved bytes: changing any one of them still decodes, or gives
        // `badEnum` for an enum byte; a decoded frame always encodes back to the changed bytes.
        for frame in Self.samples {
            let reserved = Set(Self.reservedOffsets(frame))
            let enums = Set(Self.enumBytes(frame).map(\.offset))
            let original = encoded(frame)
            for offset in 8..<original.count where !reserved.contains(offset) && !enums.contains(offset) {
                var bytes = original
                bytes[offset] ^= 0x5A
                let result = decoded(bytes)
                guard case .success(let changed) = result else {
                    Issue.record("\(frame.message.type) @\(offset): \(result)")
                    continue
                }
                #expect(changed != frame)
                #expect(encoded(changed) == bytes)
            }
        }
    }

    @Test func everyOutOfRangeEnumOrBoolByteIsBadEnumNamingTheField() {
        var checked = 0
        for frame in Self.samples {
            for (offset, field, validCount) in Self.enumBytes(frame) {
                let original = encoded(frame)
                for value in UInt8.min...UInt8.max {
                    var bytes = original
                    bytes[offset] = value
                    let result = decoded(bytes)
                    if Int(value) >= validCount {
                        #expect(result == .failure(.badEnum(field, value)), "\(field) @\(offset) = \(value)")
                        checked += 1
                    } else if field != .eventKind, field != .replaceFields, field != .modelStatus {
                        // Another valid value is another valid message that round-trips.
                        guard case .success(let changed) = result else {
                            Issue.record("\(field) @\(offset) = \(value): \(result)")
                            continue
                        }
                        #expect(encoded(changed) == bytes)
                    }
                }
            }
        }
        #expect(checked > 5_000)
    }

    @Test func replaceFieldsBitsMustMatchThePresentValues() {
        let both = ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: SymbolID(1), price: 5, quantity: 6)
        var bytes = encoded(WireFrame(message: .replace(both, clientTimestampNanos: 0)))
        #expect(bytes[48] == 0b11)
        bytes[48] = 0b01  // quantity marked absent but its bytes are not zero
        #expect(decoded(bytes) == .failure(.nonZeroReserved(offset: 24)))
        bytes[48] = 0b10
        #expect(decoded(bytes) == .failure(.nonZeroReserved(offset: 16)))
        bytes[48] = 0b100
        #expect(decoded(bytes) == .failure(.badEnum(.replaceFields, 0b100)))
        // Neither present is a valid (if useless) replace: the engine decides what it means.
        let neither = ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: SymbolID(1))
        let none = encoded(WireFrame(message: .replace(neither, clientTimestampNanos: 0)))
        #expect(none[48] == 0)
        #expect(decoded(none) == .success(WireFrame(message: .replace(neither, clientTimestampNanos: 0))))
    }

    @Test func errorsDescribeThemselves() {
        #expect(WireError.badEnum(.side, 7).description == "invalid side byte 7")
        #expect(WireError.badVersion(2).description == "unknown wire format version 2")
        #expect(WireError.nonZeroReserved(offset: 6).description == "reserved byte at offset 6 is not zero")
        #expect(WireMessageType.replayResponse.description == "replayResponse")
        #expect(ReplayStatus.tooOld.description == "too_old")
    }

    // MARK: - Random bytes

    @Test func oneMillionRandomBuffersNeverTrapAndDecodeOnlyToCanonicalFrames() {
        var random = SplitMix64(seed: 0x00C0_FFEE)
        let capacity = WireFormat.maxFrameSize + 16
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer {
            input.deallocate()
            output.deallocate()
        }
        let valid = Self.samples.map(encoded)
        var decodedByType = [Int](repeating: 0, count: 11)
        var errorKinds = Set<String>()
        for _ in 0..<1_000_000 {
            let count: Int
            switch random.next() % 4 {
            case 0:
                // Uniform bytes, any length up to past the largest frame.
                count = Int(random.next() % UInt64(capacity + 1))
                for i in 0..<count { input[i] = UInt8(truncatingIfNeeded: random.next()) }
            case 1:
                // A plausible header (version 1, any type byte, usually the right length) and a body of
                // mostly small bytes, so that enum and reserved checks are reached.
                let type = UInt8(random.next() % 12)
                let size = WireMessageType(rawValue: type)?.frameSize ?? 8 + Int(random.next() % 90)
                count = random.next() % 8 == 0 ? Int(random.next() % UInt64(capacity + 1)) : size
                for i in 0..<count { input[i] = random.smallByte() }
                if count > 0 { input[0] = random.next() % 16 == 0 ? UInt8(truncatingIfNeeded: random.next()) : 1 }
                if count > 1 { input[1] = type }
                if count > 3 {
                    let length = random.next() % 8 == 0 ? UInt16(truncatingIfNeeded: random.next()) : UInt16(size)
                    input[2] = UInt8(truncatingIfNeeded: length)
                    input[3] = UInt8(truncatingIfNeeded: length >> 8)
                }
            default:
                // A valid frame with one to three bytes changed, sometimes cut or extended.
                let frame = valid[Int(random.next() % UInt64(valid.count))]
                count =
                    switch random.next() % 16 {
                    case 0: Int(random.next() % UInt64(frame.count))
                    case 1: frame.count + 1 + Int(random.next() % 8)
                    default: frame.count
                    }
                for i in 0..<count { input[i] = i < frame.count ? frame[i] : random.smallByte() }
                for _ in 0...(random.next() % 3) where count > 0 {
                    input[Int(random.next() % UInt64(count))] = random.smallByte()
                }
            }
            let bytes = UnsafeRawBufferPointer(rebasing: input[0..<count])
            switch WireFrame.decode(bytes) {
            case .success(let frame):
                decodedByType[Int(frame.message.type.rawValue)] += 1
                guard case .success(let written) = frame.encode(into: output), written == count,
                    UnsafeRawBufferPointer(rebasing: output[0..<written]).elementsEqual(bytes)
                else {
                    Issue.record("decoded frame does not re-encode to its bytes: \(Array(bytes))")
                    return
                }
            case .failure(let error):
                errorKinds.insert(Self.kind(of: error))
            }
        }
        for type in WireMessageType.allCases {
            #expect(decodedByType[Int(type.rawValue)] > 100, "few random \(type) frames decoded")
        }
        #expect(
            errorKinds == [
                "tooShort", "badVersion", "unknownType", "badLength", "trailingBytes", "badEnum", "nonZeroReserved",
            ])
    }

    // MARK: - Fixtures

    /// One frame of every type and event kind, and every replace shape, with distinct field values.
    static let samples: [WireFrame] = {
        let s = SymbolID(7)
        let a = AccountID(3)
        return [
            WireFrame(
                shard: 1,
                message: .newOrder(
                    NewOrder(
                        id: OrderID(11), account: a, symbol: s, side: .sell, type: .market,
                        timeInForce: .immediateOrCancel, price: 101, quantity: 5, postOnly: true),
                    clientTimestampNanos: 17)),
            WireFrame(message: .cancel(CancelOrder(id: OrderID(12), account: a, symbol: s), clientTimestampNanos: 1)),
            WireFrame(
                message: .replace(
                    ReplaceOrder(id: OrderID(13), account: a, symbol: s, price: 9, quantity: 4),
                    clientTimestampNanos: 2)),
            WireFrame(
                message: .replace(ReplaceOrder(id: OrderID(13), account: a, symbol: s), clientTimestampNanos: 3)),
            WireFrame(
                message: .replace(
                    ReplaceOrder(id: OrderID(13), account: a, symbol: s, price: 9), clientTimestampNanos: 4)),
            WireFrame(
                message: .replace(
                    ReplaceOrder(id: OrderID(13), account: a, symbol: s, quantity: 4), clientTimestampNanos: 5)),
            WireFrame(
                shard: 2,
                message: .event(
                    .accepted(
                        OrderAccepted(
                            sequence: 1, id: OrderID(11), account: a, symbol: s, side: .buy, type: .limit,
                            timeInForce: .fillOrKill, postOnly: true, price: 100, quantity: 8)),
                    clientTimestampNanos: 6)),
            WireFrame(
                message: .event(
                    .rejected(
                        OrderRejected(
                            sequence: 2, id: OrderID(14), account: a, symbol: s, command: .cancel,
                            reason: .capacityExhausted)),
                    clientTimestampNanos: 7)),
            WireFrame(
                message: .event(
                    .fill(
                        Fill(
                            sequence: 3, tradeID: TradeID(1), symbol: s, takerID: OrderID(15),
                            makerID: OrderID(11), takerAccount: AccountID(4), makerAccount: a, takerSide: .sell,
                            price: 100, quantity: 2, takerLeaves: 1, makerLeaves: 6)),
                    clientTimestampNanos: 8)),
            WireFrame(
                message: .event(
                    .canceled(
                        OrderCanceled(
                            sequence: 4, id: OrderID(15), account: AccountID(4), symbol: s, side: .sell,
                            quantity: 1, reason: .immediateOrCancelRemainder)),
                    clientTimestampNanos: 9)),
            WireFrame(
                message: .event(
                    .replaced(
                        OrderReplaced(
                            sequence: 5, id: OrderID(11), account: a, symbol: s, side: .buy, price: 99, quantity: 3,
                            keptPriority: true)),
                    clientTimestampNanos: 10)),
            WireFrame(
                message: .trade(
                    PublicTrade(
                        sequence: 3, tradeID: TradeID(1), symbol: s, price: 100, quantity: 2, aggressorSide: .sell))),
            WireFrame(
                message: .bookDelta(
                    BookDelta(sequence: 3, symbol: s, side: .buy, price: 100, quantity: 6, orderCount: 1))),
            WireFrame(message: .heartbeat(Heartbeat(senderID: 2, sequence: 5, timestampNanos: 99))),
            WireFrame(message: .replayRequest(ReplayRequest(fromSequence: 1, toSequence: 5))),
            WireFrame(
                message: .replayResponse(
                    ReplayResponse(status: .ok, firstSequence: 1, lastSequence: 5, count: 5))),
            WireFrame(
                message: .riskDecision(
                    RiskVerdict(
                        orderID: OrderID(7), action: 1, reason: 10, modelStatus: 2, score: 0.75,
                        clientTimestampNanos: 42))),
            WireFrame(
                message: .riskDecision(
                    RiskVerdict(
                        orderID: OrderID(8), action: 0, reason: nil, modelStatus: 0, score: nil,
                        clientTimestampNanos: 0))),
        ]
    }()

    /// Body offsets that must be zero in `frame` (header flags are checked separately). Written
    /// from docs/wire-format.md, not from the implementation.
    static func reservedOffsets(_ frame: WireFrame) -> [Int] {
        switch frame.message {
        case .newOrder: return Array(52..<56)
        case .cancel: return []
        case .replace(let r, _):
            return (r.price == nil ? Array(16..<24) : []) + (r.quantity == nil ? Array(24..<32) : []) + Array(49..<56)
        case .event(.accepted, _): return Array(61..<96)
        case .event(.rejected, _): return [27] + Array(44..<96)
        case .event(.fill, _): return [26, 27]
        case .event(.canceled, _): return [27] + Array(52..<96)
        case .event(.replaced, _): return [27] + Array(60..<96)
        case .trade: return Array(45..<48)
        case .bookDelta: return Array(41..<48)
        case .heartbeat: return Array(28..<32)
        case .replayRequest: return []
        case .replayResponse: return Array(29..<32)
        case .riskDecision(let v): return [27] + (v.modelStatus == 2 ? [] : Array(28..<32))
        }
    }

    /// The enum and `Bool` bytes of `frame`: offset, field, number of valid values (0..<count).
    static func enumBytes(_ frame: WireFrame) -> [(offset: Int, field: WireField, validCount: Int)] {
        let side = Side.allCases.count
        let eventKind = (24, WireField.eventKind, 5)
        switch frame.message {
        case .newOrder:
            return [
                (48, .side, side), (49, .orderType, OrderType.allCases.count),
                (50, .timeInForce, TimeInForce.allCases.count), (51, .postOnly, 2),
            ]
        case .cancel, .heartbeat, .replayRequest: return []
        case .replace: return [(48, .replaceFields, 4)]
        case .event(.accepted, _):
            return [
                eventKind, (25, .side, side), (26, .orderType, OrderType.allCases.count),
                (27, .timeInForce, TimeInForce.allCases.count), (60, .postOnly, 2),
            ]
        case .event(.rejected, _):
            return [eventKind, (25, .commandKind, 3), (26, .rejectReason, RejectReason.allCases.count)]
        case .event(.fill, _): return [eventKind, (25, .side, side)]
        case .event(.canceled, _):
            return [eventKind, (25, .side, side), (26, .cancelReason, CancelReason.allCases.count)]
        case .event(.replaced, _): return [eventKind, (25, .side, side), (26, .keptPriority, 2)]
        case .trade: return [(44, .side, side)]
        case .bookDelta: return [(40, .side, side)]
        case .replayResponse: return [(28, .replayStatus, ReplayStatus.allCases.count)]
        case .riskDecision: return [(24, .riskAction, 4), (26, .modelStatus, 3)]
        }
    }

    /// Frames of every type with every enum case and extreme integers in every field.
    static func edgeFrames() -> [WireFrame] {
        let u64s: [UInt64] = [0, 1, 0x8000_0000_0000_0000, .max]
        let i64s: [Int64] = [.min, -1, 0, 1, .max]
        let u32s: [UInt32] = [0, 1, .max]
        let shards: [UInt16] = [0, 1, .max]
        let timestamps: [UInt64] = [0, .max]
        var messages: [WireMessage] = []
        for (n, side) in Side.allCases.enumerated() {
            for type in OrderType.allCases {
                for tif in TimeInForce.allCases {
                    for postOnly in [false, true] {
                        for (i, price) in i64s.enumerated() {
                            let id = OrderID(u64s[i % u64s.count])
                            let account = AccountID(u32s[i % u32s.count])
                            let symbol = SymbolID(u32s[(i + n + 1) % u32s.count])
                            let quantity = i64s[(i + 2) % i64s.count]
                            messages.append(
                                .newOrder(
                                    NewOrder(
                                        id: id, account: account, symbol: symbol, side: side, type: type,
                                        timeInForce: tif, price: price, quantity: quantity, postOnly: postOnly),
                                    clientTimestampNanos: timestamps[i % 2]))
                            messages.append(
                                .event(
                                    .accepted(
                                        OrderAccepted(
                                            sequence: u64s[(i + 1) % u64s.count], id: id, account: account,
                                            symbol: symbol, side: side, type: type, timeInForce: tif,
                                            postOnly: postOnly, price: price, quantity: quantity)),
                                    clientTimestampNanos: timestamps[(i + 1) % 2]))
                        }
                    }
                }
            }
        }
        for (i, id) in u64s.enumerated() {
            let account = AccountID(u32s[i % u32s.count])
            let symbol = SymbolID(u32s[(i + 1) % u32s.count])
            messages.append(
                .cancel(CancelOrder(id: OrderID(id), account: account, symbol: symbol), clientTimestampNanos: id))
            let prices: [Price?] = [nil] + i64s.map { $0 }
            for price in prices {
                for quantity in [nil, Int64.min, 0, Int64.max] {
                    messages.append(
                        .replace(
                            ReplaceOrder(
                                id: OrderID(id), account: account, symbol: symbol, price: price, quantity: quantity),
                            clientTimestampNanos: ~id))
                }
            }
            for command in [CommandKind.new, .cancel, .replace] {
                for reason in RejectReason.allCases {
                    messages.append(
                        .event(
                            .rejected(
                                OrderRejected(
                                    sequence: id, id: OrderID(~id), account: account, symbol: symbol,
                                    command: command, reason: reason)),
                            clientTimestampNanos: id))
                }
            }
            for side in Side.allCases {
                for reason in CancelReason.allCases {
                    messages.append(
                        .event(
                            .canceled(
                                OrderCanceled(
                                    sequence: ~id, id: OrderID(id), account: account, symbol: symbol, side: side,
                                    quantity: i64s[i], reason: reason)),
                            clientTimestampNanos: id))
                }
                for kept in [false, true] {
                    messages.append(
                        .event(
                            .replaced(
                                OrderReplaced(
                                    sequence: id, id: OrderID(id), account: account, symbol: symbol, side: side,
                                    price: i64s[i + 1], quantity: i64s[i], keptPriority: kept)),
                            clientTimestampNanos: ~id))
                }
                messages.append(
                    .event(
                        .fill(
                            Fill(
                                sequence: id, tradeID: TradeID(~id), symbol: symbol, takerID: OrderID(id),
                                makerID: OrderID(~id), takerAccount: account,
                                makerAccount: AccountID(~account.rawValue), takerSide: side, price: i64s[i],
                                quantity: i64s[i + 1], takerLeaves: i64s[(i + 2) % 5], makerLeaves: i64s[(i + 3) % 5])),
                        clientTimestampNanos: id))
                messages.append(
                    .trade(
                        PublicTrade(
                            sequence: id, tradeID: TradeID(~id), symbol: symbol, price: i64s[i], quantity: i64s[i + 1],
                            aggressorSide: side)))
                messages.append(
                    .bookDelta(
                        BookDelta(
                            sequence: ~id, symbol: symbol, side: side, price: i64s[i + 1], quantity: i64s[i],
                            orderCount: u32s[i % u32s.count])))
            }
            messages.append(
                .heartbeat(Heartbeat(senderID: u32s[i % u32s.count], sequence: id, timestampNanos: ~id)))
            for to in u64s {
                messages.append(.replayRequest(ReplayRequest(fromSequence: id, toSequence: to)))
            }
            for status in ReplayStatus.allCases {
                messages.append(
                    .replayResponse(
                        ReplayResponse(
                            status: status, firstSequence: id, lastSequence: ~id, count: u32s[i % u32s.count])))
            }
        }
        return messages.enumerated().map { WireFrame(shard: shards[$0.offset % shards.count], message: $0.element) }
    }

    static func kind(of error: WireError) -> String {
        switch error {
        case .tooShort: "tooShort"
        case .badVersion: "badVersion"
        case .unknownType: "unknownType"
        case .badLength: "badLength"
        case .trailingBytes: "trailingBytes"
        case .badEnum: "badEnum"
        case .nonZeroReserved: "nonZeroReserved"
        case .bufferTooSmall: "bufferTooSmall"
        }
    }
}

/// Encoding and decoding never touch the heap (named so that the release run of
/// `ZeroAllocationTests` picks it up too).
@Suite struct WireZeroAllocationTests {
    /// One warm-up run (lazy metadata and caches allocate once), then count the second run.
    private func mallocs(_ body: () -> Void) -> Int64 {
        body()
        alloc_counter_begin()
        body()
        return alloc_counter_end()
    }

    @Test(.enabled(if: alloc_counter_available() != 0))
    func encodingAndDecodingAllocateNothing() {
        let samples = WireFormatTests.samples
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maxFrameSize, alignment: 8)
        defer { buffer.deallocate() }
        var roundTrips = 0
        var errors = 0
        let count = mallocs {
            // Indices, not `for frame in samples`: a debug build's array iterator allocates per element.
            for _ in 0..<100 {
                for index in samples.indices {
                    let frame = samples[index]
                    guard case .success(let written) = frame.encode(into: buffer) else { continue }
                    let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<written])
                    if case .success(let decoded) = WireFrame.decode(bytes), decoded == frame { roundTrips += 1 }
                    // Error paths too: truncated, and a bad enum or reserved byte.
                    if case .failure = WireFrame.decode(UnsafeRawBufferPointer(rebasing: bytes[0..<(written - 1)])) {
                        errors += 1
                    }
                    buffer[written - 1] = 0xFF
                    if case .failure = WireFrame.decode(bytes) { errors += 1 }
                }
                if case .failure = frameTooSmall(samples[0]) { errors += 1 }
            }
        }
        #expect(count == 0)
        #expect(roundTrips == 2 * 100 * samples.count)
        #expect(errors > 2 * 100 * samples.count * 3 / 2)
    }

    private func frameTooSmall(_ frame: WireFrame) -> Result<Int, WireError> {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { frame.encode(into: $0) }
    }
}

// MARK: - Helpers

/// Encodes `frame` into a buffer prefilled with 0xAA (so unwritten padding would show).
private func encoded(_ frame: WireFrame) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xAA, count: WireFormat.maxFrameSize + 8)
    let result = buffer.withUnsafeMutableBytes { frame.encode(into: $0) }
    guard case .success(let count) = result else {
        Issue.record("encode failed: \(result)")
        return []
    }
    return Array(buffer[0..<count])
}

private func decoded(_ bytes: [UInt8]) -> Result<WireFrame, WireError> {
    bytes.withUnsafeBytes { WireFrame.decode($0) }
}

/// Parses hex byte pairs separated by white space.
private func hex(_ text: String) -> [UInt8] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
}

private func zeros(_ count: Int) -> String {
    Array(repeating: "00", count: count).joined(separator: " ")
}

/// The frame encodes to exactly `golden` and decodes back from it.
private func expectGolden(_ frame: WireFrame, _ golden: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let expected = hex(golden)
    let actual = encoded(frame)
    #expect(actual.count == frame.message.frameSize, sourceLocation: sourceLocation)
    #expect(actual == expected, sourceLocation: sourceLocation)
    #expect(decoded(expected) == .success(frame), sourceLocation: sourceLocation)
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so every run sees the same bytes.
private struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Mostly 0, often 1...3, sometimes any byte: the values that pass enum and reserved checks.
    mutating func smallByte() -> UInt8 {
        let r = next()
        switch r & 7 {
        case 0, 1, 2, 3: return 0
        case 4, 5: return UInt8(truncatingIfNeeded: (r >> 8) & 3)
        default: return UInt8(truncatingIfNeeded: r >> 8)
        }
    }
}

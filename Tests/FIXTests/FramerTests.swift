import Testing

@testable import FIX

@Suite struct FramerTests {
    let logon = fix("8=FIX.4.4|35=A|34=1|49=TW|52=20240102-03:04:05.678|56=ISLD|98=0|108=30|")
    let heartbeat = fix("8=FIX.4.4|35=0|34=2|49=TW|52=20240102-03:04:05|56=ISLD|")

    @Test func oneMessageParses() throws {
        let result = frames([logon])
        #expect(result.count == 1)
        let message = try #require(result[0].message)
        #expect(message.beginString == "FIX.4.4")
        #expect(message.msgType == "A")
        #expect(message.msgSeqNum == 1)
        #expect(message.senderCompID == "TW")
        #expect(message.targetCompID == "ISLD")
        #expect(message.int(108) == 30)
        #expect(message.bytes == logon)
        #expect(message.sendingTime == FIXTimestamp.parse("20240102-03:04:05.678"))
    }

    @Test func splitAtEveryPosition() {
        let stream = logon + heartbeat
        for cut in 0...stream.count {
            let result = frames([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(result.compactMap(\.message).map(\.msgType) == ["A", "0"], "cut at \(cut)")
        }
    }

    @Test func byteByByte() {
        let result = frames((logon + heartbeat + logon).map { [$0] })
        #expect(result.compactMap(\.message).map(\.msgType) == ["A", "0", "A"])
    }

    @Test func severalMessagesInOneRead() {
        let result = frames([logon + heartbeat + heartbeat])
        #expect(result.count == 3)
        #expect(result.allSatisfy { $0.message != nil })
    }

    @Test func garbageBetweenMessagesIsSkipped() {
        let result = frames([raw("xx\r\n") + logon + raw("garbage 9=3|") + heartbeat])
        #expect(result.compactMap(\.message).map(\.msgType) == ["A", "0"])
    }

    @Test func wrongChecksumIsGarbledAndNextMessageSurvives() {
        var bad = heartbeat
        bad[bad.count - 2] = bad[bad.count - 2] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let result = frames([bad + logon])
        #expect(result.count == 2)
        #expect(result[0].isGarbled)
        #expect(result[1].message?.msgType == "A")
    }

    @Test func tooShortBodyLengthIsOneGarbledFrame() {
        let bad = raw(
            "8=FIX.4.4|9=30|35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=3|40=1|54=1|55=INTC|10=000|")
        let result = frames([bad + heartbeat])
        #expect(result.count == 2)
        #expect(result[0].isGarbled)
        #expect(result[1].message?.msgType == "0")
    }

    @Test func tooLongBodyLengthSwallowsTheNextMessage() {
        // As QuickFIX (2m_BodyLengthValueNotCorrect): the frame runs to the next message's checksum.
        let bad = raw("8=FIX.4.4|9=111|35=D|34=4|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|10=000|")
        let result = frames([bad + heartbeat + logon])
        #expect(result.count == 2)
        #expect(result[0].isGarbled)
        #expect(result[1].message?.msgType == "A")
    }

    @Test func firstThreeFieldsOutOfOrderAreGarbled() {
        let noType = raw("8=FIX.4.4|9=5|34=3|10=000|")
        let result = frames([raw("35=0|") + fix("8=FIX.4.4|34=3|35=0|49=TW|52=20240102-03:04:05|56=ISLD|") + noType])
        #expect(result.allSatisfy { $0.isGarbled })
        #expect(result.count == 2)
    }

    @Test func bodyLengthNotANumberResynchronises() {
        let result = frames([raw("8=FIX.4.4|9=abc|35=0|10=000|") + heartbeat])
        #expect(result.count == 2)
        #expect(result[0].isGarbled)
        #expect(result[1].message?.msgType == "0")
    }

    @Test func oversizedMessageIsReported() {
        let big = fix(
            "8=FIX.4.4|35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|58=" + String(repeating: "x", count: 300) + "|")
        let result = frames([big], maxMessageSize: 200)
        guard case .tooLarge(let size) = result.first else {
            Issue.record("expected tooLarge, got \(result)")
            return
        }
        #expect(size > 200)
    }

    @Test func otherBeginStringIsSurfacedAsAMessage() throws {
        let old = fix("8=FIX.4.1|35=1|34=2|49=TW|52=20240102-03:04:05|56=ISLD|112=id|")
        let message = try #require(frames([old]).first?.message)
        #expect(message.beginString == "FIX.4.1")
    }

    @Test func dataFieldMayContainSOH() throws {
        let message = try #require(
            frames([fix("8=FIX.4.4|35=A|34=1|49=TW|52=20240102-03:04:05|56=ISLD|95=3|96=a|b|98=0|108=30|")]).first?
                .message)
        #expect(message.string(96) == "a\u{1}b")
        #expect(message.int(108) == 30)
    }

    @Test func badTagSyntaxIsGarbled() {
        let result = frames([fix("8=FIX.4.4|35=0|34=2|4garbled9=TW|52=20240102-03:04:05|56=ISLD|") + heartbeat])
        #expect(result[0].isGarbled)
        #expect(result[1].message != nil)
    }

    @Test func negativeAndZeroTagsParse() throws {
        let message = try #require(
            frames([fix("8=FIX.4.4|35=0|34=2|49=TW|52=20240102-03:04:05|56=ISLD|-1=HI|0=X|")]).first?.message)
        #expect(message.string(-1) == "HI")
        #expect(message.string(0) == "X")
    }
}

@Suite struct MessageAccessTests {
    @Test func typedAccessors() throws {
        let bytes = fix(
            "8=FIX.4.4|35=D|34=7|43=Y|49=TW|52=20240102-03:04:05.123456|56=ISLD|122=20240102-03:04:04|11=A|"
                + "38=002000.00|44=-0.5|54=1|453=2|448=P1|448=P2|58=|")
        let message = try #require(frames([bytes]).first?.message)
        #expect(message.possDupFlag)
        #expect(message.char(54) == "1")
        #expect(message.bool(43) == true)
        #expect(message.decimal(38) == FIXDecimal(mantissa: 2000, scale: 0))
        #expect(message.decimal(44) == FIXDecimal(mantissa: -5, scale: 1))
        #expect(message.count(of: 448) == 2)
        #expect(message.string(58) == "")
        #expect(message.int(58) == nil)
        #expect(message.string(9999) == nil)
        #expect(message.sendingTime == 1_704_164_645_123_456_000)
        #expect(message.origSendingTime == 1_704_164_644_000_000_000)
        #expect(message.fields.first! == (8, "FIX.4.4"))
        #expect(message.value(11, equals: "A"))
    }

    @Test func timestamps() {
        #expect(FIXTimestamp.parse("19700101-00:00:00") == 0)
        #expect(FIXTimestamp.parse("20000229-23:59:59.999") == 951_868_799_999_000_000)
        #expect(FIXTimestamp.parse("20010229-00:00:00") == nil)
        #expect(FIXTimestamp.parse("20010101-24:00:00") == nil)
        #expect(FIXTimestamp.parse("20010101-00:00:0") == nil)
        #expect(FIXTimestamp.parse("20010101-00:00:00.") == nil)
        #expect(FIXTimestamp.string(951_868_799_999_999_999) == "20000229-23:59:59.999")
        #expect(FIXTimestamp.string(0) == "19700101-00:00:00.000")
    }
}

@Suite struct DecimalTests {
    @Test func parsing() {
        #expect(FIXDecimal("123.45") == FIXDecimal(mantissa: 12345, scale: 2))
        #expect(FIXDecimal("-0.5") == FIXDecimal(mantissa: -5, scale: 1))
        #expect(FIXDecimal("100") == FIXDecimal(mantissa: 100, scale: 0))
        #expect(FIXDecimal("1.50") == FIXDecimal(mantissa: 15, scale: 1))
        #expect(FIXDecimal("0.000000000000000000000") == FIXDecimal(mantissa: 0, scale: 0))
        #expect(FIXDecimal(".5") == FIXDecimal(mantissa: 5, scale: 1))
        for bad in ["", "-", ".", "+1", "1.2.3", "1e5", "abc", " 1", "1 "] {
            #expect(FIXDecimal(bad) == nil, "\(bad)")
        }
        #expect(FIXDecimal("9223372036854775807") != nil)
        #expect(FIXDecimal("9223372036854775808") == nil)
        #expect(FIXDecimal("0.0000000000000000001") == nil)
    }

    @Test func scalingIsExact() {
        let price = FIXDecimal("123.45")!
        #expect(price.scaled(toDecimals: 2) == 12345)
        #expect(price.scaled(toDecimals: 4) == 1_234_500)
        #expect(price.scaled(toDecimals: 1) == nil)
        #expect(price.scaled(toDecimals: 0) == nil)
        #expect(FIXDecimal("100.00")!.scaled(toDecimals: 0) == 100)
        #expect(FIXDecimal("-0.5")!.scaled(toDecimals: 2) == -50)
        #expect(FIXDecimal("9223372036854775807")!.scaled(toDecimals: 1) == nil)
        #expect(FIXDecimal("922337203685477580.7")!.scaled(toDecimals: 1) == Int64.max)
        #expect(price.scaled(toDecimals: -1) == nil)
    }

    @Test func description() {
        #expect(FIXDecimal("-0.05")!.description == "-0.05")
        #expect(FIXDecimal("12.5")!.description == "12.5")
        #expect(FIXDecimal("100")!.description == "100")
    }
}

@Suite struct EncoderTests {
    @Test func quickFIXCompatibleLogon() {
        // 1a_ValidLogonWithCorrectMsgSeqNum: 8=FIX.4.4|9=57|35=A|34=1|49=ISLD|52=<time>|56=TW|98=0|108=30|
        var logon = FIXOutboundMessage(msgType: "A")
        logon.append(98, 0)
        logon.append(108, 30)
        let header = FIXOutboundHeader(senderCompID: "ISLD", targetCompID: "TW", msgSeqNum: 1, sendingTime: 0)
        let bytes = FIXEncoder.encode(logon, header: header)
        #expect(
            text(bytes).hasPrefix("8=FIX.4.4|9=61|35=A|34=1|49=ISLD|52=19700101-00:00:00.000|56=TW|98=0|108=30|10="))
        let parsed = frames([bytes])
        #expect(parsed.count == 1)
        #expect(parsed[0].message?.int(108) == 30)
    }

    @Test func roundTripWithResendHeaderAndRouting() throws {
        var order = FIXOutboundMessage(msgType: "8")
        order.append(37, "O-1")
        order.append(44, FIXDecimal("101.25")!)
        order.append(32, scaled: 1500, decimals: 2)
        order.append(54, Character("1"))
        order.append(1057, true)
        order.append(60, timestamp: 1_704_164_645_123_000_000)
        var header = FIXOutboundHeader(
            senderCompID: "ISLD", targetCompID: "TW", msgSeqNum: 42, sendingTime: 1_704_164_645_000_000_000)
        header.possDupFlag = true
        header.origSendingTime = 1_704_164_000_000_000_000
        header.extraFields = [(128, "JCD"), (115, ""), (129, "CS")]
        let bytes = FIXEncoder.encode(order, header: header)
        let message = try #require(frames([bytes]).first?.message)
        #expect(
            message.fields.map(\.tag) == [8, 9, 35, 34, 43, 49, 52, 56, 122, 128, 129, 37, 44, 32, 54, 1057, 60, 10])
        #expect(message.string(44) == "101.25")
        #expect(message.string(32) == "15")
        #expect(message.string(60) == "20240102-03:04:05.123")
        #expect(message.origSendingTime == 1_704_164_000_000_000_000)
        #expect(order.fields.count == 6)
    }

    @Test func encodedChecksumMatchesReference() {
        let body = FIXOutboundMessage(msgType: "0")
        let bytes = FIXEncoder.encode(
            body, header: FIXOutboundHeader(senderCompID: "A", targetCompID: "B", msgSeqNum: 9, sendingTime: 0))
        let checksumAt = bytes.count - 7
        #expect(
            FIXEncoder.checksum(bytes[..<checksumAt]) == Int(text(Array(bytes[(checksumAt + 3)..<(checksumAt + 6)])))!)
    }
}

import Testing

@testable import FIX

/// Drives a `FIXSession` (ISLD, counterparty TW) with QuickFIX-style `I` lines and records its actions as text:
/// `out:<fields without 9, 10, 52, 122>`, `deliver:<MsgType>`, `disconnect`, `loggedOn`, `loggedOut`.
final class SessionHarness {
    static let start: Int64 = FIXTimestamp.parse("20240102-03:04:05")!
    let store: any FIXSessionStore
    let session: FIXSession
    var now = SessionHarness.start
    var framer = FIXFramer()

    init(password: String? = nil, resetOnLogon: Bool = false, store: any FIXSessionStore = FIXMemoryStore()) {
        self.store = store
        session = try! FIXSession(
            configuration: FIXSessionConfiguration(
                senderCompID: "ISLD", targetCompID: "TW", password: password, resetOnLogon: resetOnLogon),
            store: store)
        session.connected(now: now)
    }

    var time: String { FIXTimestamp.string(now) }

    /// The client sends `text` (`8=…|35=…|` without 9 and 10; `<TIME>` replaced by now).
    @discardableResult
    func client(_ text: String) -> [String] {
        clientBytes(fix(text.replacingOccurrences(of: "<TIME>", with: time)))
    }

    @discardableResult
    func clientBytes(_ bytes: [UInt8]) -> [String] {
        framer.append(bytes)
        var result: [String] = []
        while let frame = framer.next() { result += describe(session.receive(frame, now: now)) }
        return result
    }

    @discardableResult
    func logon(_ extra: String = "") -> [String] {
        client("8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30|" + extra)
    }

    func tick(after seconds: Double) -> [String] {
        now += Int64(seconds * 1e9)
        return describe(session.timerTick(now: now))
    }

    func describe(_ actions: [FIXSessionAction]) -> [String] {
        actions.map { action in
            switch action {
            case .send(let bytes):
                var framer = FIXFramer()
                framer.append(bytes)
                guard case .message(let message) = framer.next() else { return "unparsable:" + text(bytes) }
                return "out:"
                    + message.fields.filter { ![9, 10, 52, 122].contains($0.tag) }.map { "\($0.tag)=\($0.value)" }
                    .joined(separator: "|")
            case .deliver(let message): return "deliver:" + message.msgType
            case .disconnect: return "disconnect"
            case .loggedOn: return "loggedOn"
            case .loggedOut: return "loggedOut"
            }
        }
    }
}

let logonAnswer = "out:8=FIX.4.4|35=A|34=1|49=ISLD|56=TW|98=0|108=30"
let orderFields = "11=ID|21=3|40=1|54=1|55=INTC|60=20240102-03:04:05|"

@Suite struct SessionLogonTests {
    @Test func validLogonIsAnswered() {  // 1a_ValidLogonWithCorrectMsgSeqNum
        let harness = SessionHarness()
        #expect(harness.logon() == [logonAnswer, "loggedOn"])
        #expect(harness.session.isLoggedOn)
        #expect(harness.session.nextTargetMsgSeqNum == 2)
    }

    @Test func logonSeqNumTooHigh() {  // 1a_ValidLogonMsgSeqNumTooHigh
        let harness = SessionHarness()
        #expect(
            harness.client("8=FIX.4.4|35=A|34=5|49=TW|52=<TIME>|56=ISLD|98=0|108=30|") == [
                logonAnswer, "loggedOn", "out:8=FIX.4.4|35=2|34=2|49=ISLD|56=TW|7=1|16=0",
            ])
        #expect(
            harness.client("8=FIX.4.4|35=5|34=6|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=5|34=3|49=ISLD|56=TW", "loggedOut", "disconnect",
            ])
    }

    @Test(arguments: [
        "8=FIX.4.4|35=A|34=1|49=WT|52=<TIME>|56=ISLD|98=0|108=30|",  // 1c_InvalidSenderCompID
        "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=DLSI|98=0|108=30|",  // 1c_InvalidTargetCompID
        "8=FIX.4.4|35=A|34=1|49=TW|52=20010101-00:00:00|56=ISLD|98=0|108=30|",  // 1d_InvalidLogonBadSendingTime
        "8=FIX.3.9|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=30|",  // 1d_InvalidLogonWrongBeginString
        "8=FIX.4.4|35=0|34=1|49=TW|52=<TIME>|56=DLSI|",  // 1e_NotLogonMessage
        "8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|",  // HeartBtInt missing
    ])
    func badFirstMessageDisconnectsSilently(_ line: String) {
        #expect(SessionHarness().client(line) == ["disconnect"])
    }

    @Test func garbledLogonDisconnects() {  // 1d_InvalidLogonLengthInvalid
        let harness = SessionHarness()
        let bad = raw("8=FIX.4.4|9=40|35=A|34=1|49=TW|52=\(harness.time)|56=ISLD|98=0|108=30|10=000|")
        #expect(harness.clientBytes(bad) == ["disconnect"])
    }

    @Test func wrongPasswordGetsLogoutWithText() {
        let harness = SessionHarness(password: "secret")
        #expect(
            harness.logon("554=guess|") == [
                "out:8=FIX.4.4|35=5|34=1|49=ISLD|56=TW|58=Invalid username or password", "disconnect",
            ])
        let second = SessionHarness(password: "secret")
        #expect(second.logon("554=secret|") == [logonAnswer, "loggedOn"])
    }

    @Test func resetSeqNumFlagResetsBothSides() {  // SessionReset
        let harness = SessionHarness()
        harness.logon()
        for seq in 2...9 { harness.client("8=FIX.4.4|35=0|34=\(seq)|49=TW|52=<TIME>|56=ISLD|") }
        #expect(
            harness.client("8=FIX.4.4|35=1|34=10|49=TW|52=<TIME>|56=ISLD|112=1|") == [
                "out:8=FIX.4.4|35=0|34=2|49=ISLD|56=TW|112=1"
            ])
        #expect(
            harness.logon("141=Y|") == ["out:8=FIX.4.4|35=A|34=1|49=ISLD|56=TW|98=0|108=30|141=Y"])
        #expect(
            harness.client("8=FIX.4.4|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=1|") == [
                "out:8=FIX.4.4|35=0|34=2|49=ISLD|56=TW|112=1"
            ])
    }

    /// Logs on, trades a message each way and logs out: afterwards both sides are at 3.
    private func sessionThatLoggedOut(resetOnLogon: Bool) -> SessionHarness {
        let harness = SessionHarness(resetOnLogon: resetOnLogon)
        harness.logon()
        harness.client("8=FIX.4.4|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=1|")
        harness.client("8=FIX.4.4|35=5|34=3|49=TW|52=<TIME>|56=ISLD|")
        harness.session.disconnected()
        harness.session.connected(now: harness.now)
        return harness
    }

    @Test func resetOnLogonStartsEveryLogonAtOne() {  // QuickFIX ResetOnLogon=Y (acceptor)
        let harness = sessionThatLoggedOut(resetOnLogon: true)
        #expect(harness.session.nextTargetMsgSeqNum == 4 && harness.session.nextSenderMsgSeqNum == 4)
        // No 141=Y: both sides restart at 1 all the same, and the answer does not claim a reset.
        #expect(harness.logon() == [logonAnswer, "loggedOn"])
        #expect(harness.session.nextTargetMsgSeqNum == 2 && harness.session.nextSenderMsgSeqNum == 2)
        #expect(
            harness.client("8=FIX.4.4|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=2|") == [
                "out:8=FIX.4.4|35=0|34=2|49=ISLD|56=TW|112=2"
            ])
    }

    @Test func resetOnLogonWithResetSeqNumFlagIsAnsweredWithIt() {
        let harness = sessionThatLoggedOut(resetOnLogon: true)
        #expect(
            harness.logon("141=Y|") == ["out:8=FIX.4.4|35=A|34=1|49=ISLD|56=TW|98=0|108=30|141=Y", "loggedOn"])
    }

    @Test func resetOnLogonStillRequestsAGapAfterALogonAboveOne() {
        // As QuickFIX: the numbers restart at 1, so a Logon at 5 without 141=Y leaves 1…4 missing.
        let harness = sessionThatLoggedOut(resetOnLogon: true)
        #expect(
            harness.client("8=FIX.4.4|35=A|34=5|49=TW|52=<TIME>|56=ISLD|98=0|108=30|") == [
                logonAnswer, "loggedOn", "out:8=FIX.4.4|35=2|34=2|49=ISLD|56=TW|7=1|16=0",
            ])
    }

    @Test func withoutResetOnLogonALogonAtOneIsTooLow() {
        let harness = sessionThatLoggedOut(resetOnLogon: false)
        #expect(
            harness.logon() == [
                "out:8=FIX.4.4|35=5|34=4|49=ISLD|56=TW|58=MsgSeqNum too low, expecting 4 but received 1", "disconnect",
            ])
    }

    @Test func secondLogonWithoutResetDisconnects() {
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=A|34=2|49=TW|52=<TIME>|56=ISLD|98=0|108=30|") == ["loggedOut", "disconnect"])
    }
}

@Suite struct SessionSequenceTests {
    @Test func gapIsRequestedAndQueuedMessagesProcessedInOrder() {  // 2b_MsgSeqNumTooHigh
        let harness = SessionHarness()
        harness.logon()
        for seq in 2...4 { harness.client("8=FIX.4.4|35=0|34=\(seq)|49=TW|52=<TIME>|56=ISLD|") }
        #expect(
            harness.client("8=FIX.4.4|35=D|34=10|49=TW|52=<TIME>|56=ISLD|" + orderFields) == [
                "out:8=FIX.4.4|35=2|34=2|49=ISLD|56=TW|7=5|16=0"
            ])
        for seq in 5...8 { #expect(harness.client("8=FIX.4.4|35=0|34=\(seq)|49=TW|52=<TIME>|56=ISLD|").isEmpty) }
        #expect(harness.client("8=FIX.4.4|35=0|34=9|49=TW|52=<TIME>|56=ISLD|") == ["deliver:D"])
        #expect(harness.session.nextTargetMsgSeqNum == 11)
        #expect(
            harness.client("8=FIX.4.4|35=5|34=11|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=5|34=3|49=ISLD|56=TW", "loggedOut", "disconnect",
            ])
    }

    @Test func seqNumTooLowLogsOut() {  // 2c_MsgSeqNumTooLow
        let harness = SessionHarness()
        harness.logon()
        for seq in 2...4 { harness.client("8=FIX.4.4|35=0|34=\(seq)|49=TW|52=<TIME>|56=ISLD|") }
        #expect(
            harness.client("8=FIX.4.4|35=0|34=2|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=5|34=2|49=ISLD|56=TW|58=MsgSeqNum too low, expecting 5 but received 2",
                "loggedOut", "disconnect",
            ])
    }

    @Test func garbledMessagesAreIgnored() {  // 2d_GarbledMessage, 3b_InvalidChecksum
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.clientBytes(raw("8=FIX.4.4|9=52|35=0|34=2|4garbled9=TW|52=\(harness.time)|56=ISLD|10=0|"))
                .isEmpty)
        #expect(harness.client("8=FIX.4.4|35=0|34=2|49=TW|52=<TIME>|56=ISLD|").isEmpty)
        var bad = fix("8=FIX.4.4|35=D|34=3|49=TW|52=\(harness.time)|56=ISLD|" + orderFields)
        bad[bad.count - 2] = bad[bad.count - 2] == UInt8(ascii: "9") ? UInt8(ascii: "8") : UInt8(ascii: "9")
        #expect(harness.clientBytes(bad).isEmpty)
        #expect(
            harness.client("8=FIX.4.4|35=0|34=4|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=2|34=2|49=ISLD|56=TW|7=3|16=0"
            ])
        #expect(harness.client("8=FIX.4.4|35=D|34=3|49=TW|52=<TIME>|56=ISLD|" + orderFields) == ["deliver:D"])
        #expect(harness.session.nextTargetMsgSeqNum == 5)
    }

    @Test func bodyLengthErrorsAreIgnored() {  // 2m_BodyLengthValueNotCorrect
        let harness = SessionHarness()
        harness.logon()
        let header = "35=D|34=4|49=TW|52=\(harness.time)|56=ISLD|"
        let tooLong = raw("8=FIX.4.4|9=111|" + header + orderFields + "10=000|")
        let next = fix("8=FIX.4.4|35=D|34=5|49=TW|52=\(harness.time)|56=ISLD|" + orderFields)
        harness.client("8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|" + orderFields)
        harness.client("8=FIX.4.4|35=D|34=3|49=TW|52=<TIME>|56=ISLD|" + orderFields)
        #expect(harness.clientBytes(tooLong + next).isEmpty)
        #expect(harness.session.nextTargetMsgSeqNum == 4)
    }

    @Test func possDupHandling() {  // 2e_PossDupAlreadyReceived, 2e_PossDupNotReceived
        let harness = SessionHarness()
        harness.logon()
        harness.client("8=FIX.4.4|35=0|34=2|49=TW|52=<TIME>|56=ISLD|")
        #expect(harness.client("8=FIX.4.4|35=0|34=2|43=Y|49=TW|52=<TIME>|122=<TIME>|56=ISLD|").isEmpty)
        #expect(harness.client("8=FIX.4.4|35=0|34=3|43=Y|49=TW|52=<TIME>|122=<TIME>|56=ISLD|").isEmpty)
        #expect(harness.session.nextTargetMsgSeqNum == 4)
    }

    @Test func possDupWithLaterOrigSendingTime() {  // 2f_PossDupOrigSendingTimeTooHigh
        let harness = SessionHarness()
        harness.logon()
        harness.client("8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|" + orderFields)
        harness.client("8=FIX.4.4|35=D|34=3|49=TW|52=<TIME>|56=ISLD|" + orderFields)
        let later = FIXTimestamp.string(harness.now + 10_000_000_000)
        #expect(
            harness.client("8=FIX.4.4|35=D|34=2|43=Y|49=TW|52=<TIME>|56=ISLD|122=\(later)|" + orderFields) == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|45=2|58=SendingTime accuracy problem|372=D|373=10",
                "out:8=FIX.4.4|35=5|34=3|49=ISLD|56=TW",
            ])
        #expect(harness.client("8=FIX.4.4|35=5|34=4|49=TW|52=<TIME>|56=ISLD|") == ["loggedOut", "disconnect"])
    }

    @Test func possDupWithoutOrigSendingTime() {  // 2g_PossDupNoOrigSendingTime
        let harness = SessionHarness()
        harness.logon()
        harness.client("8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|" + orderFields)
        harness.client("8=FIX.4.4|35=D|34=3|49=TW|52=<TIME>|56=ISLD|" + orderFields)
        #expect(
            harness.client("8=FIX.4.4|35=D|34=2|43=Y|49=TW|52=<TIME>|56=ISLD|" + orderFields) == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|45=2|58=Required tag missing|371=122|372=D|373=1"
            ])
        #expect(
            harness.client("8=FIX.4.4|35=1|34=4|49=TW|52=<TIME>|56=ISLD|112=HELLO|") == [
                "out:8=FIX.4.4|35=0|34=3|49=ISLD|56=TW|112=HELLO"
            ])
    }

    @Test func wrongBeginStringLogsOut() {  // 2i_BeginStringValueUnexpected
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.1|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=id|") == [
                "out:8=FIX.4.4|35=5|34=2|49=ISLD|56=TW|58=Incorrect BeginString"
            ])
        #expect(harness.client("8=FIX.4.4|35=5|34=3|49=TW|52=<TIME>|56=ISLD|") == ["loggedOut", "disconnect"])
        let silent = SessionHarness()
        silent.logon()
        silent.client("8=FIX.4.1|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=id|")
        #expect(silent.tick(after: 1).isEmpty)
        #expect(silent.tick(after: 1.1) == ["loggedOut", "disconnect"])
    }

    @Test(arguments: ["49=WT|52=<TIME>|56=ISLD|", "49=TW|52=<TIME>|56=DLSI|", "49=WT|52=<TIME>|56=DLSI|"])
    func compIDMismatch(_ ids: String) {  // 2k_CompIDDoesNotMatchProfile
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=D|34=2|" + ids + orderFields) == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|45=2|58=CompID problem|372=D|373=9",
                "out:8=FIX.4.4|35=5|34=3|49=ISLD|56=TW",
            ])
        #expect(harness.client("8=FIX.4.4|35=5|34=3|49=TW|52=<TIME>|56=ISLD|") == ["loggedOut", "disconnect"])
    }

    @Test(arguments: [-121.0, 121.0])
    func sendingTimeOutOfRange(_ offset: Double) {  // 2o_SendingTimeValueOutOfRange
        let harness = SessionHarness()
        harness.logon()
        let time = FIXTimestamp.string(harness.now + Int64(offset * 1e9))
        #expect(
            harness.client("8=FIX.4.4|35=0|34=2|49=TW|52=\(time)|56=ISLD|") == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|45=2|58=SendingTime accuracy problem|372=0|373=10",
                "out:8=FIX.4.4|35=5|34=3|49=ISLD|56=TW",
            ])
    }

    @Test func invalidAndUnsupportedMsgTypes() {  // 2q_MsgTypeNotValid, 2r_UnregisteredMsgType
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=*|34=2|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|45=2|58=Invalid MsgType|372=*|373=11"
            ])
        let report = "37=id|17=id|150=0|39=0|55=WLRI|54=1|151=100|14=0|6=0.0|"
        let actions = harness.session.receive(
            frames([fix("8=FIX.4.4|35=8|34=3|49=TW|52=\(harness.time)|56=ISLD|" + report)])[0], now: harness.now)
        guard case .deliver(let message) = actions.first else {
            Issue.record("expected deliver, got \(actions)")
            return
        }
        let answer = harness.session.sendApplication(
            .businessMessageReject(for: message, reason: 3, text: "Unsupported Message Type"), replyingTo: message,
            now: harness.now)
        #expect(
            harness.describe(answer) == [
                "out:8=FIX.4.4|35=j|34=3|49=ISLD|56=TW|45=3|58=Unsupported Message Type|372=8|380=3"
            ])
    }
}

@Suite struct SessionAdminTests {
    @Test func heartbeatsAndTestRequests() {  // 4a_NoDataSentDuringHeartBtInt, 6_SendTestRequest
        let harness = SessionHarness()
        harness.client("8=FIX.4.4|35=A|34=1|49=TW|52=<TIME>|56=ISLD|98=0|108=3|")
        #expect(harness.tick(after: 2.9).isEmpty)
        #expect(harness.tick(after: 0.1) == ["out:8=FIX.4.4|35=0|34=2|49=ISLD|56=TW"])
        harness.client("8=FIX.4.4|35=0|34=2|49=TW|52=<TIME>|56=ISLD|")
        #expect(harness.tick(after: 3) == ["out:8=FIX.4.4|35=0|34=3|49=ISLD|56=TW"])
        #expect(harness.tick(after: 0.6) == ["out:8=FIX.4.4|35=1|34=4|49=ISLD|56=TW|112=TEST"])
        harness.client("8=FIX.4.4|35=0|34=3|49=TW|52=<TIME>|56=ISLD|112=TEST|")
        #expect(harness.tick(after: 3) == ["out:8=FIX.4.4|35=0|34=5|49=ISLD|56=TW"])
        #expect(harness.tick(after: 0.6) == ["out:8=FIX.4.4|35=1|34=6|49=ISLD|56=TW|112=TEST"])
        #expect(harness.tick(after: 3).isEmpty)
        #expect(harness.tick(after: 0.6) == ["loggedOut", "disconnect"])
    }

    @Test func testRequestIsAnswered() {  // 4b_ReceivedTestRequest
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=HELLO|") == [
                "out:8=FIX.4.4|35=0|34=2|49=ISLD|56=TW|112=HELLO"
            ])
    }

    @Test func receivedRejectConsumesSeqNum() {  // 7_ReceiveRejectMessage
        let harness = SessionHarness()
        harness.logon()
        #expect(harness.client("8=FIX.4.4|35=3|34=2|49=TW|52=<TIME>|56=ISLD|45=1|").isEmpty)
        #expect(harness.session.nextTargetMsgSeqNum == 3)
    }

    @Test func resendRequestMixesGapFillsAndResends() {  // 8_AdminAndApplicationMessages
        let harness = SessionHarness()
        harness.logon()
        for seq in 2...4 { harness.client("8=FIX.4.4|35=1|34=\(seq)|49=TW|52=<TIME>|56=ISLD|112=HELLO|") }
        for (seq, symbol) in [(5, "INTC"), (6, "CDG")] {
            let actions = harness.session.receive(
                frames([
                    fix(
                        "8=FIX.4.4|35=D|34=\(seq)|49=TW|52=\(harness.time)|56=ISLD|11=ID|55=\(symbol)|21=3|40=1|54=1|60=20240102-03:04:05|"
                    )
                ])[0],
                now: harness.now)
            guard case .deliver(let order) = actions.first else {
                Issue.record("no deliver")
                return
            }
            var echo = FIXOutboundMessage(msgType: "D")
            echo.append(11, "ID")
            echo.append(55, symbol)
            _ = harness.session.sendApplication(echo, replyingTo: order, now: harness.now)
        }
        for seq in 7...8 { harness.client("8=FIX.4.4|35=1|34=\(seq)|49=TW|52=<TIME>|56=ISLD|112=HELLO|") }
        let gap2to4 = "out:8=FIX.4.4|35=4|34=2|43=Y|49=ISLD|56=TW|36=5|123=Y"
        let resent5 = "out:8=FIX.4.4|35=D|34=5|43=Y|49=ISLD|56=TW|11=ID|55=INTC"
        let resent6 = "out:8=FIX.4.4|35=D|34=6|43=Y|49=ISLD|56=TW|11=ID|55=CDG"
        #expect(harness.client("8=FIX.4.4|35=2|34=9|49=TW|52=<TIME>|56=ISLD|7=2|16=4|") == [gap2to4])
        #expect(
            harness.client("8=FIX.4.4|35=2|34=10|49=TW|52=<TIME>|56=ISLD|7=2|16=6|") == [gap2to4, resent5, resent6])
        #expect(
            harness.client("8=FIX.4.4|35=2|34=11|49=TW|52=<TIME>|56=ISLD|7=1|16=0|") == [
                "out:8=FIX.4.4|35=4|34=1|43=Y|49=ISLD|56=TW|36=5|123=Y", resent5, resent6,
                "out:8=FIX.4.4|35=4|34=7|43=Y|49=ISLD|56=TW|36=9|123=Y",
            ])
        #expect(
            harness.client("8=FIX.4.4|35=1|34=12|49=TW|52=<TIME>|56=ISLD|112=HELLO|") == [
                "out:8=FIX.4.4|35=0|34=9|49=ISLD|56=TW|112=HELLO"
            ])
    }

    @Test func resendRequestWithWrongSeqNumIsStillAnswered() {  // 8_OnlyAdminMessages, 20_SimultaneousResendRequest
        let harness = SessionHarness()
        harness.logon()
        harness.client("8=FIX.4.4|35=1|34=2|49=TW|52=<TIME>|56=ISLD|112=HELLO|")
        #expect(
            harness.client("8=FIX.4.4|35=0|34=7|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=2|34=3|49=ISLD|56=TW|7=3|16=0"
            ])
        #expect(
            harness.client("8=FIX.4.4|35=2|34=8|49=TW|52=<TIME>|56=ISLD|7=1|16=0|") == [
                "out:8=FIX.4.4|35=4|34=1|43=Y|49=ISLD|56=TW|36=4|123=Y"
            ])
        for seq in 3...6 {
            #expect(harness.client("8=FIX.4.4|35=0|34=\(seq)|43=Y|49=TW|52=<TIME>|122=<TIME>|56=ISLD|").isEmpty)
        }
        #expect(harness.session.nextTargetMsgSeqNum == 8)
    }

    @Test func sequenceResetGapFill() {  // 10_MsgSeqNumEqual, 10_MsgSeqNumGreater, 10_MsgSeqNumLess
        let harness = SessionHarness()
        harness.logon()
        #expect(harness.client("8=FIX.4.4|35=4|34=2|49=TW|52=<TIME>|56=ISLD|36=20|123=Y|").isEmpty)
        #expect(harness.session.nextTargetMsgSeqNum == 20)
        #expect(harness.client("8=FIX.4.4|35=4|34=1|43=Y|49=TW|52=<TIME>|122=<TIME>|56=ISLD|36=20|123=Y|").isEmpty)
        #expect(
            harness.client("8=FIX.4.4|35=4|34=1|49=TW|52=<TIME>|56=ISLD|36=20|123=Y|") == [
                "out:8=FIX.4.4|35=5|34=2|49=ISLD|56=TW|58=MsgSeqNum too low, expecting 20 but received 1",
                "loggedOut", "disconnect",
            ])
        let greater = SessionHarness()
        greater.logon()
        #expect(
            greater.client("8=FIX.4.4|35=4|34=10|49=TW|52=<TIME>|56=ISLD|36=20|123=Y|") == [
                "out:8=FIX.4.4|35=2|34=2|49=ISLD|56=TW|7=2|16=0"
            ])
        #expect(greater.client("8=FIX.4.4|35=1|34=20|49=TW|52=<TIME>|56=ISLD|112=HELLO|").isEmpty)
    }

    @Test func sequenceResetReset() {  // 11a_NewSeqNoGreater, 11b_NewSeqNoEqual, 11c_NewSeqNoLess
        let harness = SessionHarness()
        harness.logon()
        #expect(harness.client("8=FIX.4.4|35=4|34=0|49=TW|52=<TIME>|56=ISLD|36=25|").isEmpty)
        #expect(harness.session.nextTargetMsgSeqNum == 25)
        #expect(harness.client("8=FIX.4.4|35=4|34=0|49=TW|52=<TIME>|56=ISLD|36=25|123=N|").isEmpty)
        #expect(
            harness.client("8=FIX.4.4|35=4|34=0|49=TW|52=<TIME>|56=ISLD|36=1|") == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|45=0|58=Value is incorrect (out of range) for this tag|372=4|373=5"
            ])
        #expect(harness.session.nextTargetMsgSeqNum == 25)
    }

    @Test func unsolicitedLogout() {  // 13b_UnsolicitedLogoutMessage
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=5|34=2|49=TW|52=<TIME>|56=ISLD|") == [
                "out:8=FIX.4.4|35=5|34=2|49=ISLD|56=TW", "loggedOut", "disconnect",
            ])
        #expect(!harness.session.isLoggedOn)
    }
}

@Suite struct SessionRejectTests {
    @Test(arguments: [
        ("35=0|34=2|49=TW|52=<TIME>|56=ISLD|999=HI|", "45=2|58=Invalid tag number|371=999|372=0|373=0"),  // 14a
        ("35=0|34=2|49=TW|52=<TIME>|56=ISLD|-1=HI|", "45=2|58=Invalid tag number|371=-1|372=0|373=0"),  // 14a
        ("35=0|34=2|49=TW|52=<TIME>|", "45=2|58=Required tag missing|371=56|372=0|373=1"),  // 14b
        (
            "35=0|34=2|49=TW|52=<TIME>|56=ISLD|55=MSFT|",
            "45=2|58=Tag not defined for this message type|371=55|372=0|373=2"
        ),  // 14c
        ("35=0|34=2|49=TW|52=<TIME>|56=|", "45=2|58=Tag specified without a value|371=56|372=0|373=4"),  // 14d
        (
            "35=D|34=2|49=TW|52=<TIME>|56=ISLD|11=ID|21=4|40=1|54=1|38=002000.00|55=INTC|60=<TIME>|",
            "45=2|58=Value is incorrect (out of range) for this tag|371=21|372=D|373=5"
        ),  // 14e
        (
            "35=D|34=2|49=TW|52=<TIME>|56=ISLD|11=ID|21=1|40=1|54=1|38=+200.00|55=INTC|60=<TIME>|",
            "45=2|58=Incorrect data format for value|371=38|372=D|373=6"
        ),  // 14f
        (
            "35=D|11=id|21=3|40=1|54=1|55=MSFT|60=<TIME>|34=2|49=TW|52=<TIME>|56=ISLD|",
            "45=2|58=Tag specified out of required order|371=34|372=D|373=14"
        ),  // 14g
        (
            "35=D|34=2|49=TW|52=<TIME>|56=ISLD|11=ID|21=1|40=1|40=2|54=1|38=200.00|55=INTC|60=<TIME>|",
            "45=2|58=Tag appears more than once|371=40|372=D|373=13"
        ),  // 14h
        (
            "35=D|34=2|49=TW|52=<TIME>|56=ISLD|11=ID|21=1|40=1|54=1|38=200.00|55=INTC|386=3|336=PRE-OPEN|"
                + "336=AFTER-HOURS|60=<TIME>|",
            "45=2|58=Incorrect NumInGroup count for repeating group|371=386|372=D|373=16"
        ),  // 14i
    ])
    func invalidMessageIsRejectedAndConsumesSeqNum(_ body: String, _ reject: String) {
        let harness = SessionHarness()
        harness.logon()
        #expect(harness.client("8=FIX.4.4|" + body) == ["out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|" + reject])
        #expect(harness.session.nextTargetMsgSeqNum == 3)
    }

    @Test func validMessagesInAnyFieldOrder() {  // 15_HeaderAndBodyFieldsOrderedDifferently, 19a/19b, 21
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=D|49=TW|34=2|56=ISLD|52=<TIME>|40=1|55=MSFT|60=<TIME>|54=1|21=3|11=id|") == [
                "deliver:D"
            ])
        #expect(
            harness.client("8=FIX.4.4|35=D|34=3|49=TW|52=<TIME>|56=ISLD|97=Y|11=id|21=3|40=1|54=1|55=MSFT|60=<TIME>|")
                == ["deliver:D"])
        #expect(
            harness.client(
                "8=FIX.4.4|35=d|34=4|49=TW|56=ISLD|52=<TIME>|320=JCD1091-20021011|322=1034356488676|323=6|55=TBS|22=8|"
                    + "167=CS|336=ONE_MAIN|58=No Products found for this Class Symbol|454=0|") == ["deliver:d"])
    }

    @Test func rejectOfResentMessageThenQueue() {  // RejectResentMessage
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client("8=FIX.4.4|35=1|34=3|49=TW|52=<TIME>|56=ISLD|112=HELLO1|") == [
                "out:8=FIX.4.4|35=2|34=2|49=ISLD|56=TW|7=2|16=0"
            ])
        #expect(
            harness.client(
                "8=FIX.4.4|35=D|34=2|43=Y|49=TW|52=<TIME>|56=ISLD|122=<TIME>|11=ID|21=3|38=100|40=1|54=1|55=IVP|"
                    + "60=<TIME>|126=20040415|") == [
                    "out:8=FIX.4.4|35=3|34=3|49=ISLD|56=TW|45=2|58=Incorrect data format for value|371=126|372=D|373=6",
                    "out:8=FIX.4.4|35=0|34=4|49=ISLD|56=TW|112=HELLO1",
                ])
        #expect(
            harness.client("8=FIX.4.4|35=1|34=4|49=TW|52=<TIME>|56=ISLD|112=HELLO2|") == [
                "out:8=FIX.4.4|35=0|34=5|49=ISLD|56=TW|112=HELLO2"
            ])
    }

    @Test(arguments: [
        ("115=JCD|", "128=JCD|"), ("128=JCD|", "115=JCD|"), ("115=JCD|116=CS|", "128=JCD|129=CS|"),
        ("128=JCD|129=CS|", "115=JCD|116=CS|"), ("115=JCD|116=CS|144=CHI|", "128=JCD|129=CS|145=CHI|"),
        ("128=JCD|129=CS|145=CHI|", "115=JCD|116=CS|144=CHI|"),
    ])
    func rejectReversesRouting(_ inbound: String, _ outbound: String) {  // ReverseRoute
        let harness = SessionHarness()
        harness.logon()
        let answer = harness.client(
            "8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|" + inbound + "11=ID|21=3|38=100|40=w|54=1|55=INTC|60=<TIME>|")
        #expect(
            answer == [
                "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|" + outbound
                    + "45=2|58=Value is incorrect (out of range) for this tag|371=40|372=D|373=5"
            ])
    }

    @Test func emptyRoutingTagIsNotReversed() {  // ReverseRouteWithEmptyRoutingTags
        let harness = SessionHarness()
        harness.logon()
        #expect(
            harness.client(
                "8=FIX.4.4|35=D|34=2|49=TW|52=<TIME>|56=ISLD|115=JCD|116=|11=ID|21=3|38=100|40=1|54=1|55=INTC|60=<TIME>|"
            )
                == [
                    "out:8=FIX.4.4|35=3|34=2|49=ISLD|56=TW|128=JCD|45=2|58=Tag specified without a value|371=116|372=D|373=4"
                ])
    }
}

@Suite struct SessionStoreBehaviourTests {
    @Test func messagesSentWhileLoggedOutAreStoredAndResent() {
        let store = FIXMemoryStore()
        let harness = SessionHarness(store: store)
        harness.logon()
        harness.session.disconnected()
        var report = FIXOutboundMessage(msgType: "8")
        report.append(37, "O1")
        #expect(harness.session.sendApplication(report, replyingTo: nil, now: harness.now).isEmpty)
        #expect(harness.session.nextSenderMsgSeqNum == 3)
        harness.session.connected(now: harness.now)
        harness.framer = FIXFramer()
        #expect(
            harness.client("8=FIX.4.4|35=A|34=2|49=TW|52=<TIME>|56=ISLD|98=0|108=30|") == [
                "out:8=FIX.4.4|35=A|34=3|49=ISLD|56=TW|98=0|108=30", "loggedOn",
            ])
        #expect(
            harness.client("8=FIX.4.4|35=2|34=3|49=TW|52=<TIME>|56=ISLD|7=1|16=0|") == [
                "out:8=FIX.4.4|35=4|34=1|43=Y|49=ISLD|56=TW|36=2|123=Y",
                "out:8=FIX.4.4|35=8|34=2|43=Y|49=ISLD|56=TW|37=O1",
                "out:8=FIX.4.4|35=4|34=3|43=Y|49=ISLD|56=TW|36=4|123=Y",
            ])
    }
}

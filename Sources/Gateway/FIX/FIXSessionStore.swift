/// Where a session keeps what must survive a reconnect (and, for `FIXFileStore`, a restart): the next sequence
/// numbers and the application messages it sent, for ResendRequest.
///
/// Only application messages are stored; sequence numbers missing from the store (session-level messages) are
/// answered with SequenceReset-GapFill, as QuickFIX does for its stored admin messages.
/// Methods do not throw: a store that fails to persist keeps serving from memory and reports the failure in
/// `lastError` (the gateway may log it and disconnect).
public protocol FIXSessionStore: AnyObject {
    /// MsgSeqNum of the next message we send (starts at 1).
    var nextSenderMsgSeqNum: Int { get set }
    /// MsgSeqNum expected on the next message we receive (starts at 1).
    var nextTargetMsgSeqNum: Int { get set }
    /// Keeps the encoded message sent with `seq`.
    func store(seq: Int, bytes: [UInt8])
    /// The stored messages whose sequence numbers fall in `range`, in ascending order.
    func messages(in range: ClosedRange<Int>) -> [(seq: Int, bytes: [UInt8])]
    /// Sets both sequence numbers to 1 and forgets the stored messages (Logon with ResetSeqNumFlag=Y).
    func reset()
    /// The last persistence failure, nil when none.
    var lastError: (any Error)? { get }
}

/// A store in memory: lost when the process ends.
public final class FIXMemoryStore: FIXSessionStore {
    /// MsgSeqNum of the next message we send.
    public var nextSenderMsgSeqNum = 1
    /// MsgSeqNum expected on the next message we receive.
    public var nextTargetMsgSeqNum = 1
    private var sent: [Int: [UInt8]] = [:]

    /// An empty store (both sequence numbers 1).
    public init() {}

    /// Keeps the encoded message sent with `seq`.
    public func store(seq: Int, bytes: [UInt8]) { sent[seq] = bytes }

    /// The stored messages in `range`, ascending.
    public func messages(in range: ClosedRange<Int>) -> [(seq: Int, bytes: [UInt8])] {
        sent.filter { range.contains($0.key) }.sorted { $0.key < $1.key }.map { (seq: $0.key, bytes: $0.value) }
    }

    /// Sets both sequence numbers to 1 and forgets the stored messages.
    public func reset() {
        nextSenderMsgSeqNum = 1
        nextTargetMsgSeqNum = 1
        sent = [:]
    }

    /// Always nil.
    public var lastError: (any Error)? { nil }
}

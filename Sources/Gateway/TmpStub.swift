import NIOCore
final class FIXSessionHost { func timerTick() {}; func logout(reason: String) {}; init(settings: Any, core: Any, stateDirectory: String) throws {} }
final class FIXConnectionHandler: ChannelInboundHandler { typealias InboundIn = ByteBuffer; init(sessions: [FIXSessionHost], maxMessageSize: Int, logger: Any) {} }

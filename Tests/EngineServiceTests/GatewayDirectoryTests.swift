import Testing

@testable import EngineService

/// Gateway numbers, and the numbers recovery reserves for gateways not heard from yet.
@Suite struct GatewayDirectoryTests {
    func number(_ directory: inout GatewayDirectory, _ name: String, orderID: UInt64 = 0) -> UInt16? {
        Array(name.utf8).withUnsafeBytes { directory.number(for: $0, orderID: orderID) }
    }

    @Test func routingIDsGetStableNumbers() {
        var directory = GatewayDirectory()
        #expect(number(&directory, "gateway-1") == 1)
        #expect(number(&directory, "gateway-2") == 2)
        #expect(number(&directory, "gateway-1") == 1)
        #expect(directory.identity(2) == Array("gateway-2".utf8))
        #expect(directory.identity(0) == nil)
        #expect(directory.identity(3) == nil)
    }

    @Test func aReservedNumberIsClaimedByTheFirstGatewaySendingAnIDWithItsGatewayBits() {
        var directory = GatewayDirectory()
        let reserved = directory.reserve(gatewayID: 7)
        #expect(reserved == 1)
        #expect(directory.reserve(gatewayID: 7) == 1)  // one number per gateway id
        #expect(directory.identity(1) == nil)  // nobody to deliver to yet
        // Another gateway's ids do not claim it.
        #expect(number(&directory, "gateway-3", orderID: 3 << 48 | 5) == 2)
        #expect(number(&directory, "gateway-7", orderID: 7 << 48 | 99) == 1)
        #expect(directory.identity(1) == Array("gateway-7".utf8))
        // Claimed once: the gateway keeps it; another routing id with the same bits gets a new one.
        #expect(number(&directory, "gateway-7", orderID: 0) == 1)
        #expect(number(&directory, "gateway-7b", orderID: 7 << 48 | 1) == 3)
    }

    @Test func aFullDirectoryRefusesNewGatewaysAndReservations() {
        var directory = GatewayDirectory()
        for i in 0..<GatewayDirectory.capacity { #expect(number(&directory, "g\(i)") != nil) }
        #expect(number(&directory, "one-more") == nil)
        #expect(directory.reserve(gatewayID: 1) == nil)
        #expect(number(&directory, "g5") == 6)
    }
}

import ChronosConfig
import ChronosCore
import EngineService
import Foundation
import MatchingEngine
import Messaging
import Persistence
import ShardClient
import TestSupport
import Testing

/// Kill -9 of an engine, restart (no flag): the books are rebuilt from the shard's journal and the
/// stream goes on exactly as an uninterrupted run's; the lagging persister catches the tail up from
/// the journal through the restarted shard's replay socket.
extension PersistProcessTests {
    /// Each shard's events in an uninterrupted in-process run of `commands`, after `probes[shard]`
    /// start-up probes (`Flow.waitForShards` cancels of an unknown id, rejected).
    func uninterruptedRun(_ exchange: ExchangeConfiguration, probes: [Int], commands: [EngineCommand]) throws
        -> (events: [[EngineEvent]], engines: [Engine])
    {
        let engines = try exchange.shards.indices.map { shard in
            let configuration = EngineShard.Configuration(exchange, shard: shard)
            let engine = try Engine(configuration: configuration.engine)
            for symbol in configuration.symbols { try engine.addSymbol(symbol) }
            return engine
        }
        var events: [[EngineEvent]] = Array(repeating: [], count: engines.count)
        func submit(_ command: EngineCommand) {
            let shard = exchange.shardMap.shardOfSymbol[Int(command.symbolID.rawValue)]
            engines[shard].submit(command)
            events[shard] += engines[shard].events
        }
        for (shard, count) in probes.enumerated() {
            let symbol = SymbolID(UInt32(exchange.shardMap.shardOfSymbol.firstIndex(of: shard)!))
            for _ in 0..<count {
                submit(.cancel(CancelOrder(id: OrderID(UInt64.max), account: AccountID(0), symbol: symbol)))
            }
        }
        for command in commands { submit(command) }
        return (events, engines)
    }

    @Test(arguments: StoreKind.available)
    func killNineOfTheEngineThenJournalRecoveryGivesTheBookOfAnUninterruptedRun(_ kind: StoreKind) async throws {
        try await offThePool {
            let database = "chronos_recover_\(UUID().uuidString.prefix(8).lowercased())"
            let dir = temporaryDirectory()
            // The persister writes slowly: when the engine dies it is still behind, and finishes
            // the dead engine's tail from the journal (the restarted shard's replay socket).
            let setup = try ProcessSetup(
                persistence: "sqlite_path = \"\(dir.path)/chronos.sqlite\"\nbatch_size = 200\ndebug_write_delay_ms = 20"
            )
            let environment = try persisterEnvironment(kind, database: database)
            let context = try ZMQContext()
            var engine0 = try setup.engine(0)
            let engine1 = try setup.engine(1)
            defer {
                _ = engine0.terminate()
                _ = engine1.terminate()
            }
            let flow = try OrderFlow(setup.exchange, context: context, count: 8_000)
            #expect(flow.waitForShards())
            let observers = try setup.exchange.shards.map { try EventSubscriber(context: context, shard: $0) }
            let persister = try setup.persister(1, environment: environment)
            defer { _ = persister.terminate() }
            #expect(eventually(seconds: 30) { setup.log("persist-1.log").contains("persister following") })
            flow.send(4_000)
            // The first life's stream, read before the kill (the restarted shard's is read apart).
            let beforeKill = try observe(observers)
            let storedAtKill = try openStore(kind, setup, database: database).highWaterMark(shard: 0)
            engine0.kill9()
            // Journal recovery: no flag, no store read.
            engine0 = try setup.engine(0, log: "engine-0-recovered.log")
            flow.send(4_000)  // waits until the recovered shard takes orders
            // The subscribers follow the restarted shard once it speaks (at the latest its heartbeat).
            var afterRestart: [[EngineEvent]] = []
            for observer in observers {
                var first: EngineEvent?
                #expect(
                    eventually(seconds: 15) {
                        first = try observer.next(timeoutMilliseconds: 100)
                        return first != nil
                    })
                var events = first.map { [$0] } ?? []
                while let event = try observer.next(timeoutMilliseconds: 300) { events.append(event) }
                afterRestart.append(events)
            }
            let observed = zip(beforeKill, afterRestart).map { $0 + $1 }

            // The stream, across the crash, is the uninterrupted run's: same events, numbering on.
            let probes = observed.map { events in
                events.prefix { if case .rejected(let r) = $0, r.id.rawValue == UInt64.max { true } else { false } }
                    .count
            }
            let expected = try uninterruptedRun(setup.exchange, probes: probes, commands: flow.commands)
            for shard in 0..<2 {
                #expect(observed[shard].count == expected.events[shard].count, "shard \(shard)")
                let difference = zip(observed[shard], expected.events[shard]).first { $0 != $1 }
                #expect(difference == nil, "shard \(shard)'s stream differs from an uninterrupted run's")
            }
            try expectStoreEquals({ try openStore(kind, setup, database: database) }, observed)

            // The recovered book, and the book at the end, hash as the uninterrupted run's.
            let recoveredLog = setup.log("engine-0-recovered.log")
            #expect(recoveredLog.contains("engine shard recovered"), "\(recoveredLog)")
            #expect(recoveredLog.contains("seeded_from_store=false"), "\(recoveredLog)")
            #expect(stateHash(in: recoveredLog, after: "engine shard recovered") != nil)
            #expect(engine0.terminate() == 0)
            let finalHash = stateHash(in: setup.log("engine-0-recovered.log"), after: "engine shard stopped")
            #expect(finalHash == String(expected.engines[0].stateHash(), radix: 16).leftPadded(to: 16))
            #expect(storedAtKill > 0)
        }
    }
}

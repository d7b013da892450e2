import ArgumentParser
import Foundation
import Histogram
import Workload

/// `chronos bench`: measurements that need no benchmark harness.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Chronos components.",
        subcommands: [EngineBench.self, RoundTripBench.self, RiskBench.self, PersistBench.self, JournalBench.self]
    )
}

/// `chronos bench engine`: throughput and per-command latency of the matching engine alone.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Matching engine throughput and latency on a seeded realistic stream (one thread, no I/O).",
        discussion: """
            The stream: prices around a moving mid, passive orders at a geometric distance behind the \
            touch, about 60% passive adds, 30% cancels, 10% marketable orders, a book of about \
            --book-size resting orders. Throughput is timed over the whole stream (best and median of \
            --passes); latency is each command timed alone with CLOCK_MONOTONIC, shown beside the \
            cost of the clock reads themselves. Mallocs per command: see Benchmarks/ (package-benchmark).
            """
    )

    @Option(help: "Measured commands.") var commands = 2_000_000
    @Option(help: "Warm-up commands before measuring (they build the book).") var warmup = 200_000
    @Option(help: "Target resting orders in the book.") var bookSize = 10_000
    @Option(help: "Symbols the flow is spread over.") var symbols = 1
    @Option(help: "Seed of the stream.") var seed: UInt64 = 42
    @Option(help: "Throughput passes.") var passes = 3
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func validate() throws {
        guard commands > 0, warmup >= 0, bookSize > 0, symbols > 0, passes > 0 else {
            throw ValidationError("--commands, --book-size, --symbols and --passes must be > 0, --warmup >= 0")
        }
    }

    func run() throws {
        let benchmark = EngineBenchmark(
            parameters: .init(seed: seed, symbols: symbols, targetRestingOrders: bookSize),
            commands: commands, warmup: warmup, passes: passes)
        let r = try benchmark.run()
        let sorted = r.throughputRuns.sorted()
        let best = sorted.last!
        let median = sorted[sorted.count / 2]
        func ns(_ h: Histogram<UInt64>, _ p: Double) -> UInt64 { h.valueAtPercentile(p) }
        if json {
            print(
                """
                {"commands":\(r.commands),"warmup":\(r.warmupCommands),"book_start":\(r.restingAtStart),\
                "book_end":\(r.restingAtEnd),"events":\(r.events),\
                "throughput_best":\(Int(best)),"throughput_median":\(Int(median)),\
                "latency_ns":{"p50":\(ns(r.latency, 50)),"p99":\(ns(r.latency, 99)),\
                "p99_9":\(ns(r.latency, 99.9)),"max":\(r.latency.maxRecorded)},\
                "clock_floor_ns":{"p50":\(ns(r.clockFloor, 50)),"p99":\(ns(r.clockFloor, 99)),\
                "p99_9":\(ns(r.clockFloor, 99.9)),"max":\(r.clockFloor.maxRecorded)},\
                "deterministic":\(r.stateHashesAgree)}
                """)
            return
        }
        print("chronos bench engine — seed \(seed), \(symbols) symbol(s), 1 thread, release build expected")
        print("stream: \(r.warmupCommands) warm-up + \(r.commands) measured commands (\(r.mix))")
        print("book: \(r.restingAtStart) resting orders at start, \(r.restingAtEnd) at end; \(r.events) events")
        print("throughput: best \(format(best)) commands/s, median \(format(median)) over \(passes) passes")
        print(
            "latency per command (ns):   p50 \(ns(r.latency, 50))   p99 \(ns(r.latency, 99))   "
                + "p99.9 \(ns(r.latency, 99.9))   max \(r.latency.maxRecorded)")
        print(
            "clock-read floor (ns):      p50 \(ns(r.clockFloor, 50))   p99 \(ns(r.clockFloor, 99))   "
                + "p99.9 \(ns(r.clockFloor, 99.9))   max \(r.clockFloor.maxRecorded)")
        print("deterministic (same state hash in every pass): \(r.stateHashesAgree ? "yes" : "NO")")
        if !r.stateHashesAgree { throw ExitCode(1) }
    }

    private func format(_ value: Double) -> String {
        let n = Int(value.rounded())
        var s = String(n)
        var i = s.count - 3
        while i > 0 {
            s.insert(",", at: s.index(s.startIndex, offsetBy: i))
            i -= 3
        }
        return s
    }
}

/// `chronos bench roundtrip`: order → engine → report over ZeroMQ, beside the raw ZeroMQ floor.
struct RoundTripBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtrip",
        abstract:
            "Round trips through an engine shard over inproc, ipc and tcp, beside a raw ZeroMQ ping-pong, and throughput with 1 and 2 shards.",
        discussion: """
            Each round trip is a resting order (56-byte frame) or its cancel, timed from the send \
            until its report (96-byte frame) arrives; the floor is a DEALER/ROUTER ping-pong of the \
            same sizes on the same transport, with the answering thread polling as the engine does. \
            The two are measured in alternating batches of 500 so that the VM's noise falls on both. \
            Throughput: inproc shards, resting orders and cancels over 4 symbols, a window of \
            commands in flight.
            """
    )

    @Option(help: "Measured round trips per transport.") var count = 20_000
    @Option(help: "Warm-up round trips.") var warmup = 2_000
    @Option(help: "Transports, comma-separated.") var transports = "inproc,ipc,tcp"
    @Flag(help: "Busy-poll in the engine and echo threads instead of zmq_poll.") var spin = false
    @Option(help: "Commands for each throughput run (0: skip).") var throughputCommands = 200_000

    func run() throws {
        func us(_ h: Histogram<UInt64>, _ p: Double) -> String {
            let v = Double(h.valueAtPercentile(p)) / 1_000
            return String(Int(v * 10) / 10) + "." + String(Int(v * 10) % 10)
        }
        print(
            "chronos bench roundtrip — \(count) round trips per transport after \(warmup) warm-up, \(spin ? "spin" : "poll") idle"
        )
        print("transport  path         p50 µs   p99 µs   p99.9 µs   max µs   p99 ratio to floor")
        for name in transports.split(separator: ",") {
            guard let transport = MessagingBenchmark.Transport(rawValue: String(name)) else {
                throw ValidationError("unknown transport \(name)")
            }
            let (engine, floor) = try MessagingBenchmark.roundTrips(transport, count: count, warmup: warmup, spin: spin)
            let ratio = Double(engine.valueAtPercentile(99)) / Double(max(floor.valueAtPercentile(99), 1))
            for (label, h) in [("raw zmq", floor), ("engine", engine)] {
                print(
                    "\(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(label.padding(toLength: 10, withPad: " ", startingAt: 0))"
                        + "  \(us(h, 50).padding(toLength: 8, withPad: " ", startingAt: 0)) \(us(h, 99).padding(toLength: 8, withPad: " ", startingAt: 0))"
                        + " \(us(h, 99.9).padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(h.maxRecorded / 1_000).padding(toLength: 8, withPad: " ", startingAt: 0))"
                        + (label == "engine" ? " " + String(format: "%.2f", ratio) : ""))
            }
        }
        guard throughputCommands > 0 else { return }
        let one = try MessagingBenchmark.throughput(shards: 1, commands: throughputCommands, window: 1_000)
        let two = try MessagingBenchmark.throughput(shards: 2, commands: throughputCommands, window: 1_000)
        print(
            "throughput (inproc, \(throughputCommands) commands, 1,000 in flight): 1 shard \(Int(one)) commands/s, "
                + "2 shards \(Int(two)) commands/s, ratio \(Int(two / one * 100))%")
    }
}

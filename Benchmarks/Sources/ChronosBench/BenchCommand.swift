import ArgumentParser
import Foundation
import Histogram
import Workload

/// `chronos bench`: measurements that need no benchmark harness.
public struct BenchCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Chronos components.",
        subcommands: [EngineBench.self, RoundTripBench.self, RiskBench.self, PersistBench.self, JournalBench.self]
    )
}

/// `chronos bench engine`: throughput and per-command latency of the matching engine alone.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Matching engine throughput and latency on a seeded stream (one thread, no I/O).",
        discussion: """
            --flow realistic: prices around a moving mid, passive orders at a geometric distance behind \
            the touch, about 60% passive adds, 30% cancels, 10% marketable orders, a book of about \
            --book-size resting orders. \
            --flow random-ids: the hard flow of public matching-engine benchmarks: --new-orders new \
            orders whose ids are a random permutation, 15% IOC, 0.8 cancels per new order (2% stale), \
            0.17 price-changing modifies per new order, a mid swinging ±60%, passive orders spread over \
            --depth-ticks ticks (thousands of levels per side), the engine at its default capacities. \
            --flow deep-book: --levels price levels per side, then passive orders at random ticks \
            inside the book (half join a level, half open one), each canceled right after. \
            Throughput is timed over the whole measured stream (best and median of --passes), by wall \
            time and by the thread's CPU time (steadier on a shared machine); page faults are the \
            thread's minor and major faults inside the timed loop; latency is each command timed alone \
            with CLOCK_MONOTONIC, shown beside the cost of the clock reads themselves. Mallocs per \
            command: Benchmarks/ (package-benchmark) gates them at 0 on both flows.
            """
    )

    @Option(help: "Flow: realistic, random-ids or deep-book.") var flow = "realistic"
    @Option(help: "Measured commands (realistic flow).") var commands = 2_000_000
    @Option(help: "Warm-up commands before measuring (realistic flow; they build the book).") var warmup = 200_000
    @Option(help: "Target resting orders in the book (realistic flow).") var bookSize = 10_000
    @Option(help: "Symbols the flow is spread over (realistic flow).") var symbols = 1
    @Option(help: "New orders (random-ids flow; about 2 messages each).") var newOrders = 1_000_000
    @Option(help: "Passive orders rest 1…this many ticks behind the mid (random-ids flow).") var depthTicks: Int64 =
        10_000
    @Option(help: "Price levels per side (deep-book flow).") var levels = 10_000
    @Option(help: "Seed of the stream.") var seed: UInt64 = 42
    @Option(help: "Throughput passes.") var passes = 3
    @Flag(help: "Back the engine's large tables with transparent huge pages.") var hugePages = false
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func validate() throws {
        guard ["realistic", "random-ids", "deep-book"].contains(flow) else {
            throw ValidationError("--flow: realistic, random-ids or deep-book (got \(flow))")
        }
        guard levels > 0 else { throw ValidationError("--levels must be > 0") }
        guard commands > 0, warmup >= 0, bookSize > 0, symbols > 0, passes > 0, newOrders > 0, depthTicks > 0 else {
            throw ValidationError(
                "--commands, --book-size, --symbols, --passes, --new-orders and --depth-ticks must be > 0, --warmup >= 0"
            )
        }
    }

    func run() throws {
        var stream: EngineBenchmark.Flow
        switch flow {
        case "realistic":
            stream = try .realistic(
                .init(seed: seed, symbols: symbols, targetRestingOrders: bookSize), commands: commands, warmup: warmup)
        case "deep-book": stream = .deepBook(levels: levels, commands: commands, seed: seed)
        default: stream = try .hard(.init(seed: seed, newOrders: newOrders, depthTicks: depthTicks))
        }
        stream.configuration.hugePages = hugePages
        let r = try EngineBenchmark(flow: stream, passes: passes).run()
        func bestAndMedian(_ runs: [Double]) -> (best: Double, median: Double) {
            let sorted = runs.sorted()
            return (sorted.last!, sorted[sorted.count / 2])
        }
        let wall = bestAndMedian(r.throughputRuns)
        let cpu = bestAndMedian(r.cpuThroughputRuns)
        let faults = r.pageFaultRuns.sorted()[r.pageFaultRuns.count / 2]
        func ns(_ h: Histogram<UInt64>, _ p: Double) -> UInt64 { h.valueAtPercentile(p) }
        if json {
            print(
                """
                {"flow":"\(flow)","commands":\(r.commands),"warmup":\(r.warmupCommands),"book_start":\(r.restingAtStart),\
                "book_end":\(r.restingAtEnd),"events":\(r.events),\
                "throughput_best":\(Int(wall.best)),"throughput_median":\(Int(wall.median)),\
                "cpu_throughput_best":\(Int(cpu.best)),"cpu_throughput_median":\(Int(cpu.median)),\
                "page_faults_median":\(faults),\
                "latency_ns":{"p50":\(ns(r.latency, 50)),"p99":\(ns(r.latency, 99)),\
                "p99_9":\(ns(r.latency, 99.9)),"max":\(r.latency.maxRecorded)},\
                "clock_floor_ns":{"p50":\(ns(r.clockFloor, 50)),"p99":\(ns(r.clockFloor, 99)),\
                "p99_9":\(ns(r.clockFloor, 99.9)),"max":\(r.clockFloor.maxRecorded)},\
                "deterministic":\(r.stateHashesAgree)}
                """)
            return
        }
        print("chronos bench engine — flow \(flow), seed \(seed), 1 thread, release build expected")
        print("stream: \(r.warmupCommands) warm-up + \(r.commands) measured commands (\(r.mix))")
        print("book: \(r.restingAtStart) resting orders at start, \(r.restingAtEnd) at end; \(r.events) events")
        print(
            "throughput (wall): best \(format(wall.best)) commands/s, median \(format(wall.median)) over \(passes) passes"
        )
        print("throughput (thread CPU): best \(format(cpu.best)) commands per CPU-second, median \(format(cpu.median))")
        print(
            "page faults in the timed loop: median \(faults) (passes: \(r.pageFaultRuns.map(String.init).joined(separator: ", ")))"
        )
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

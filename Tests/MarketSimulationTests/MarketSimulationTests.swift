import ChronosCore
import MatchingEngine
import Replay
import RiskEngine
import XCTest

@testable import MarketSimulation

/// Collects everything a simulation writes, in memory.
final class CollectingOutput: SimulationOutput {
    var csv: [UInt8] = Array(SimulationFormat.csvHeader.utf8)
    var commands: [UInt8] = []
    var rows: [SimulatedOrderRow] = []
    var features: [[Float]] = []
    var fills: [String] = []
    var summaries: [DaySummary] = []

    func row(_ row: SimulatedOrderRow, features: UnsafeBufferPointer<Float>) {
        SimulationFormat.appendCSV(row, features: features, to: &csv)
        rows.append(row)
        self.features.append(Array(features))
    }

    func command(_ command: EngineCommand, ts: UInt64) {
        SimulationFormat.appendJSONLine(command, ts: ts, to: &commands)
    }

    func events(_ events: EngineEvents, ts: UInt64) {
        for case .fill(let fill) in events {
            fills.append("\(fill.takerID.rawValue) \(fill.makerID.rawValue) \(fill.price) \(fill.quantity)")
        }
    }

    func dayFinished(_ summary: DaySummary) { summaries.append(summary) }
}

final class MarketSimulationTests: XCTestCase {
    private func simulate(
        seed: UInt64, days: Int = 2, ordersPerDay: Int = 15_000, manipulators: [AgentKind]? = nil,
        momentum: Bool = true
    ) throws -> CollectingOutput {
        let simulator = try MarketSimulator(
            SimulationConfiguration(seed: seed, days: days, ordersPerDay: ordersPerDay, manipulators: manipulators))
        simulator.includesMomentumTraders = momentum
        let output = CollectingOutput()
        simulator.run(output: output)
        return output
    }

    func testSameSeedGivesByteIdenticalRowsAndCommands() throws {
        let first = try simulate(seed: 11)
        let second = try simulate(seed: 11)
        XCTAssertGreaterThan(first.rows.count, 20_000)
        XCTAssertEqual(first.csv, second.csv)
        XCTAssertEqual(first.commands, second.commands)
    }

    func testDifferentSeedsGiveDifferentDays() throws {
        let first = try simulate(seed: 11, days: 1)
        let second = try simulate(seed: 12, days: 1)
        XCTAssertNotEqual(first.csv, second.csv)
        XCTAssertNotEqual(first.rows.first?.daySeed, second.rows.first?.daySeed)
    }

    func testADayDependsOnlyOnItsSeedNotOnTheDaysAfterIt() throws {
        let short = try simulate(seed: 5, days: 1)
        let long = try simulate(seed: 5, days: 2)
        XCTAssertEqual(Array(long.csv.prefix(short.csv.count)), short.csv)
    }

    func testLabelsMarkOnlyManipulatorsSpoofLegs() throws {
        let output = try simulate(seed: 3, days: 4)
        let labeled = output.rows.filter { $0.label == 1 }
        XCTAssertFalse(labeled.isEmpty)
        XCTAssertTrue(labeled.allSatisfy { $0.agentKind.isManipulator && $0.episodeID > 0 })
        // The manipulators' genuine legs are in their episodes but labeled 0.
        let genuine = output.rows.filter { $0.agentKind.isManipulator && $0.label == 0 }
        XCTAssertFalse(genuine.isEmpty)
        XCTAssertTrue(genuine.allSatisfy { $0.episodeID > 0 })
        // Nobody else is labeled or in an episode.
        XCTAssertTrue(
            output.rows.filter { !$0.agentKind.isManipulator }.allSatisfy { $0.label == 0 && $0.episodeID == 0 })
        // Spoof legs are a small minority, as in a real market.
        let share = Double(labeled.count) / Double(output.rows.count)
        XCTAssertGreaterThan(share, 0.001)
        XCTAssertLessThan(share, 0.06)
    }

    func testOnlyTheRequestedManipulatorKindsAppear() throws {
        let split = try simulate(seed: 4, days: 3, manipulators: [.splitSpoofer])
        let kinds = Set(split.rows.filter { $0.agentKind.isManipulator }.map(\.agentKind))
        XCTAssertEqual(kinds, [.splitSpoofer])
        let mimic = try simulate(seed: 4, days: 3, manipulators: [.mimicSpoofer])
        let mimicKinds = Set(mimic.rows.filter { $0.agentKind.isManipulator }.map(\.agentKind))
        XCTAssertEqual(mimicKinds, [.mimicSpoofer])
        // The mimic quotes like a maker (label 0) and only its inflated levels are spoof legs.
        let mimicRows = mimic.rows.filter { $0.agentKind == .mimicSpoofer }
        XCTAssertTrue(mimicRows.contains { $0.label == 1 && $0.episodeID > 0 })
        XCTAssertGreaterThan(mimicRows.filter { $0.label == 0 }.count, mimicRows.filter { $0.label == 1 }.count)
        let none = try simulate(seed: 4, days: 2, manipulators: [])
        XCTAssertTrue(none.rows.allSatisfy { $0.label == 0 && !$0.agentKind.isManipulator })
    }

    func testSpoofingPaysOnlyBecauseBookReadersReact() throws {
        let withReaders = try simulate(seed: 21, days: 4, manipulators: [.spoofer])
        let withoutReaders = try simulate(seed: 21, days: 4, manipulators: [.spoofer], momentum: false)
        func share(_ output: CollectingOutput) -> Double {
            let episodes = output.summaries.reduce(0) { $0 + $1.episodes }
            let filled = output.summaries.reduce(0) { $0 + $1.episodesGenuineFilled }
            XCTAssertGreaterThan(episodes, 50)
            return Double(filled) / Double(max(episodes, 1))
        }
        let reacting = share(withReaders)
        let ignoring = share(withoutReaders)
        XCTAssertGreaterThan(reacting, 0.3, "the genuine leg should fill in a meaningful share of episodes")
        XCTAssertGreaterThan(reacting, ignoring + 0.1, "momentum traders should be what fills the genuine leg")
    }

    func testMarketMakersCancelMoreThanTheyTradeButStayUnlabeled() throws {
        let output = try simulate(seed: 8, days: 3)
        var makers = AgentKindStatistics()
        var noise = AgentKindStatistics()
        for summary in output.summaries {
            makers.newOrders += summary[.marketMaker].newOrders
            makers.cancels += summary[.marketMaker].cancels
            makers.replaces += summary[.marketMaker].replaces
            noise.newOrders += summary[.noise].newOrders
            noise.cancels += summary[.noise].cancels
            noise.replaces += summary[.noise].replaces
        }
        XCTAssertGreaterThan(makers.cancelRatio, 0.9)
        XCTAssertGreaterThan(makers.cancelRatio, noise.cancelRatio)
        XCTAssertTrue(output.rows.filter { $0.agentKind == .marketMaker }.allSatisfy { $0.label == 0 })
    }

    func testEveryRowHasTheSchemasFiniteFeatures() throws {
        let output = try simulate(seed: 9, days: 2)
        XCTAssertEqual(output.features.count, output.rows.count)
        for features in output.features {
            XCTAssertEqual(features.count, SpoofingFeatureSchema.count)
            XCTAssertTrue(features.allSatisfy(\.isFinite))
        }
        let header = SimulationFormat.csvHeader.dropLast().split(separator: ",").map(String.init)
        XCTAssertEqual(header.count, 7 + SpoofingFeatureSchema.count)
        XCTAssertEqual(Array(header.suffix(SpoofingFeatureSchema.count)), SpoofingFeatureSchema.names)
        let lines = output.csv.split(separator: UInt8(ascii: "\n"))
        XCTAssertEqual(lines.count, output.rows.count + 1)
        XCTAssertTrue(lines.allSatisfy { $0.filter { $0 == UInt8(ascii: ",") }.count == header.count - 1 })
    }

    func testCommandsReplayThroughTheEngineToTheSameFills() throws {
        let output = try simulate(seed: 13, days: 2, ordersPerDay: 10_000)
        XCTAssertGreaterThan(output.fills.count, 500)
        let events = String(decoding: try ReplaySession.replay(output.commands), as: UTF8.self)
        var replayed: [String] = []
        for line in events.split(separator: "\n") where line.hasPrefix(#"{"ev":"fill""#) {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).map(String.init)
            replayed.append(numbers.joined(separator: " "))
        }
        XCTAssertEqual(replayed, output.fills)
        XCTAssertFalse(events.contains(#""ev":"rejected""#), "the agents only send valid commands")
        // Risk mode reads the same stream (with ts) and rejects nothing on the default limits.
        let risky = String(decoding: try ReplaySession.replay(output.commands, risk: true), as: UTF8.self)
        XCTAssertFalse(risky.contains(#""ev":"rejected""#))
        XCTAssertEqual(risky.split(separator: "\n").filter { $0.hasPrefix(#"{"ev":"fill""#) }.count, replayed.count)
    }

    func testConfigurationBoundsAreChecked() {
        XCTAssertFalse(SimulationConfiguration(days: 0).validationErrors.isEmpty)
        XCTAssertFalse(SimulationConfiguration(ordersPerDay: 0).validationErrors.isEmpty)
        XCTAssertFalse(SimulationConfiguration(days: 500, ordersPerDay: 5_000_000).validationErrors.isEmpty)
        XCTAssertFalse(SimulationConfiguration(manipulators: [.noise]).validationErrors.isEmpty)
        XCTAssertThrowsError(try MarketSimulator(SimulationConfiguration(days: 0)))
        XCTAssertTrue(SimulationConfiguration().validationErrors.isEmpty)
    }
}

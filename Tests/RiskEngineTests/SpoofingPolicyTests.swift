import AllocCounter
import ChronosCore
import RiskEngine
import Testing

/// A scorer whose answer the test sets: the policy, not the model, is under test here (the ONNX
/// model has its own tests in SpoofingModelTests).
final class ScriptedScorer: SpoofingScorer {
    var answer: Float?
    private(set) var calls = 0
    private(set) var lastFeatures = [Float](repeating: .nan, count: SpoofingFeatureSchema.count)
    private(set) var sawBadInput = false

    init(_ answer: Float?) { self.answer = answer }

    func score(_ features: UnsafeBufferPointer<Float>) -> Float? {
        calls += 1
        if features.count != SpoofingFeatureSchema.count { sawBadInput = true }
        for i in 0..<min(features.count, lastFeatures.count) {
            lastFeatures[i] = features[i]
            if !features[i].isFinite { sawBadInput = true }
        }
        return answer
    }
}

@Suite struct SpoofingPolicyTests {
    private func harness(
        _ mode: SpoofingModelMode, _ answer: Float?, scoring: SpoofingScoring = .inPath, failClosed: Bool = false
    ) -> (RiskHarness, ScriptedScorer) {
        let h = RiskHarness()
        let scorer = ScriptedScorer(answer)
        h.risk.attachSpoofingModel(
            scorer, policy: SpoofingPolicy(mode: mode, threshold: 0.8, scoring: scoring, failClosed: failClosed))
        return (h, scorer)
    }

    @Test func shadowScoresButNeverActs() {
        let (h, scorer) = harness(.shadow, 0.99)
        let d = h.check(1, 1, .buy, 100, 10)
        #expect(d.action == .pass && d.reason == nil && d.model == .scored)
        #expect(abs(d.score! - 0.99) < 1e-6)
        #expect(scorer.calls == 1 && !scorer.sawBadInput)
        #expect(h.risk.spoofingCounters.shadowHits == 1 && h.risk.spoofingCounters.scored == 1)
        #expect(h.risk.workingOrderCount == 1)
    }

    @Test func flagAndThrottleAtTheThresholdOnly() {
        let (h, scorer) = harness(.flag, 0.8)
        #expect(h.check(1, 1, .buy, 100, 10).action == .flag)
        #expect(h.check(2, 1, .buy, 100, 10).reason == .spoofingModel)
        scorer.answer = 0.79
        #expect(h.check(3, 1, .buy, 100, 10).action == .pass)
        let (t, _) = harness(.throttle, 0.95)
        let d = t.check(1, 1, .sell, 100, 10)
        #expect(d.action == .throttle && d.reason == .spoofingModel)
        #expect(h.risk.spoofingCounters.flagged == 2 && t.risk.spoofingCounters.throttled == 1)
        // Flagged and throttled orders still go on: they stay reserved.
        #expect(h.risk.workingOrderCount == 3 && t.risk.workingOrderCount == 1)
    }

    @Test func rejectModeReleasesTheReservation() {
        let (h, _) = harness(.reject, 0.9)
        let d = h.check(1, 1, .buy, 100, 10)
        #expect(d.action == .reject && d.reason == .spoofingModel)
        #expect(h.risk.workingOrderCount == 0)
        #expect(h.risk.accountState(AccountID(1))?.openOrders == 0)
    }

    @Test func staticLimitsComeFirstAndSkipTheModel() {
        let (h, scorer) = harness(.reject, 0.99)
        let d = h.check(1, 1, .buy, 100_000, 1_001)  // $1,001,000
        #expect(d.reason == .notionalLimit && d.model == .off)
        #expect(scorer.calls == 0)
    }

    @Test func aFailedScoreFailsOpenOrClosedAsConfigured() {
        let (open, _) = harness(.reject, nil)
        let d = open.check(1, 1, .buy, 100, 10)
        #expect(d.action == .pass && d.model == .failed && d.score == nil)
        #expect(open.risk.spoofingCounters.failures == 1)
        #expect(open.risk.workingOrderCount == 1)
        let (closed, _) = harness(.flag, nil, failClosed: true)
        let c = closed.check(1, 1, .buy, 100, 10)
        #expect(c.action == .reject && c.reason == .modelUnavailable && c.model == .failed)
        #expect(closed.risk.workingOrderCount == 0)
        // A score outside 0…1 or not finite is a failure too.
        let (odd, scorer) = harness(.flag, .nan)
        #expect(odd.check(1, 1, .buy, 100, 10).model == .failed)
        scorer.answer = 1.5
        #expect(odd.check(2, 1, .buy, 100, 10).model == .failed)
    }

    @Test func replacesAreScoredToo() {
        let (h, scorer) = harness(.flag, 0.9)
        h.enter(1, 1, .sell, 100, 10)
        let d = h.risk.checkReplace(
            ReplaceOrder(id: OrderID(1), account: AccountID(1), symbol: h.symbol, price: 101, quantity: 50), now: 0)
        #expect(d.action == .flag)
        #expect(scorer.calls == 2)
        // A replace of an order nobody knows is scored on "nothing known" (zeros), not skipped.
        _ = h.risk.checkReplace(
            ReplaceOrder(id: OrderID(77), account: AccountID(1), symbol: h.symbol, quantity: 5), now: 0)
        #expect(scorer.calls == 3 && scorer.lastFeatures.allSatisfy { $0 == 0 })
    }

    @Test func scoreBehindUsesTheLastScoreAndRefreshesOffThePath() {
        let (h, scorer) = harness(.flag, 0.1, scoring: .behind)
        // The first order of the pair is scored in its path.
        #expect(h.check(1, 1, .buy, 100, 10).action == .pass)
        #expect(scorer.calls == 1)
        // The next one uses the stored score: no model call.
        scorer.answer = 0.95
        #expect(h.check(2, 1, .buy, 100, 10).action == .pass)
        #expect(scorer.calls == 1)
        // Events make the pair stale; a refresh rescores it off the order path.
        h.accepted(1, 1, .buy, 100, 10)
        #expect(h.risk.staleBehindScores == 1)
        #expect(h.risk.refreshBehindScores(now: 5) == 1)
        #expect(scorer.calls == 2 && h.risk.staleBehindScores == 0)
        let d = h.check(3, 1, .buy, 100, 10)
        #expect(d.action == .flag && abs(d.score! - 0.95) < 1e-6)
        #expect(scorer.calls == 2)
        #expect(h.risk.spoofingCounters.behindRefreshes == 1)
        // Another account on the same symbol is its own pair.
        _ = h.check(4, 2, .buy, 100, 10)
        #expect(scorer.calls == 3)
    }

    @Test func modeOffAttachesNothing() {
        let (h, scorer) = harness(.off, 0.99)
        let d = h.check(1, 1, .buy, 100, 10)
        #expect(d.model == .off && d.score == nil && scorer.calls == 0)
        #expect(h.risk.spoofingPolicy == nil)
    }
}

/// Checking orders with a model attached allocates nothing on the risk engine's side.
@Suite struct SpoofingPolicyZeroAllocationTests {
    @Test(.enabled(if: alloc_counter_available() != 0))
    func scoredChecksAllocateNothing() {
        for scoring in SpoofingScoring.allCases {
            let h = RiskHarness { $0.orderCapacity = 1_024 }
            let scorer = ScriptedScorer(0.95)
            h.risk.attachSpoofingModel(scorer, policy: SpoofingPolicy(mode: .flag, threshold: 0.5, scoring: scoring))
            var id: UInt64 = 1
            var flags = 0
            var rounds = 0
            while rounds < 101 {
                if rounds == 1 { alloc_counter_begin() }
                if h.enter(id, 1, .buy, 100, 10).action == .flag { flags += 1 }
                h.accepted(id, 1, .buy, 100, 10)
                h.canceled(id, 1, .buy, 10)
                h.risk.refreshBehindScores(now: UInt64(rounds))
                id += 1
                rounds += 1
            }
            #expect(alloc_counter_end() == 0, "\(scoring)")
            #expect(flags == 101)
        }
    }
}

@Suite struct ThrottleTests {
    @Test func aThrottledAccountIsHeldToTheThrottleRateUntilItEnds() {
        let h = RiskHarness()
        let second: UInt64 = 1_000_000_000
        #expect(h.risk.throttle(account: AccountID(1), messagesPerSecond: 2, until: 10 * second))
        // One token at once, then one every half second.
        #expect(h.check(1, 1, .buy, 100, 1, now: second).action == .pass)
        #expect(h.check(2, 1, .buy, 100, 1, now: second).rejected == .messageRate)
        #expect(h.check(3, 1, .buy, 100, 1, now: second + second / 2).action == .pass)
        #expect(h.check(4, 1, .buy, 100, 1, now: second + second / 2).rejected == .messageRate)
        // Other accounts are not affected.
        #expect(h.check(5, 2, .buy, 100, 1, now: second).action == .pass)
        #expect(h.check(6, 2, .buy, 100, 1, now: second).action == .pass)
        // After the throttle ends the account's own (unlimited) rate applies again.
        for id in 10..<20 as Range<UInt64> {
            #expect(h.check(id, 1, .buy, 100, 1, now: 10 * second).action == .pass)
        }
    }
}

import StarlingSimulation
import Testing

@Suite("Engagement tally and statistics")
struct EngagementTallyTests {
    @Test func windowsAndTotals() {
        var t = EngagementTally()
        for r in 5..<12 { t.record(round: r, impressions: 100, clicks: r, purchases: r / 5) }
        t.record(round: 11, impressions: 100, clicks: 1, purchases: 0)  // adds to round 11
        let w = t.windows(of: 3)
        #expect(w.map(\.firstRound) == [5, 8, 11] && w.map(\.lastRound) == [7, 10, 11])
        #expect(w.map(\.impressions) == [300, 300, 200])
        #expect(w.map(\.clicks) == [18, 27, 12])
        #expect(t.total.clicks == 57 && t.total.impressions == 800 && t.total.purchases == 1 + 1 + 1 + 1 + 1 + 2 + 2)
        #expect(w[0].ctr == 0.06 && w[2].conversion == 0.01)
        #expect(EngagementTally().total.ctr == nil)
    }

    @Test func summaryStatistics() {
        #expect(SampleStatistics.mean([1, 2, 3, 6]) == 3)
        #expect(SampleStatistics.mean([]) == nil)
        #expect(SampleStatistics.standardDeviation([2]) == nil)
        #expect(abs(SampleStatistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9])! - 2.138) < 0.001)
        let values = (1...100).map(Double.init).reversed().map { $0 }
        #expect(SampleStatistics.percentile(values, 95) == 95)
        #expect(SampleStatistics.percentile(values, 50) == 50)
        #expect(SampleStatistics.percentile([3], 95) == 3)
    }
}

import StarlingSimulation
import Testing

@Suite("Click model")
struct ClickModelTests {
    static let configuration = SimulationConfiguration(seed: 11, users: 400, items: 300)

    @Test func higherPositionsGetMoreClicks() throws {
        var world = try SimulatedWorld(configuration: Self.configuration)
        let model = ClickModel(configuration: Self.configuration)
        let items = Array(0..<10)
        var clicks = [Int](repeating: 0, count: 10)
        for _ in 0..<60 {
            for u in world.users.indices {
                // Every item is shown at every position equally often: only the position differs.
                let shift = (u + world.round) % 10
                let list = Array(items[shift...] + items[..<shift])
                for c in model.respond(world, user: u, list: list) { clicks[c.position] += 1 }
            }
            world.advance()
        }
        #expect(clicks[0] > clicks[1] && clicks[1] > clicks[2] && clicks[2] > clicks[4] && clicks[4] > clicks[9], "\(clicks)")
        // Examination (1/(1+p))^0.8: position 9 is examined 0.158 times as often as position 0.
        let ratio = Double(clicks[9]) / Double(clicks[0])
        #expect(ratio > 0.10 && ratio < 0.22, "clicks by position \(clicks), ratio \(ratio)")
        #expect(abs(model.examination(position: 9) - 0.1585) < 0.001)
    }

    /// Ranks by the hidden attractiveness vs uniformly random lists, over the same visitors.
    @Test func anOracleBeatsRandomLists() throws {
        var world = try SimulatedWorld(configuration: Self.configuration)
        let model = ClickModel(configuration: Self.configuration)
        var oracle = EngagementTally(), random = EngagementTally()
        for _ in 0..<20 {
            let plan = world.plan()
            for u in plan.visitors {
                let best = Array(world.items.indices.sorted { world.attractiveness(user: u, item: $0) > world.attractiveness(user: u, item: $1) }.prefix(10))
                var draws: [Int] = []
                var n: UInt64 = 0
                while draws.count < 10 {
                    let i = Int(Draw.bits(.browse, 99, UInt64(world.round), UInt64(u), n) % UInt64(world.items.count))
                    n += 1
                    if !draws.contains(i) { draws.append(i) }
                }
                for (tally, list) in [(0, best), (1, draws)] {
                    let clicks = model.respond(world, user: u, list: list)
                    let purchases = clicks.filter(\.purchased).count
                    if tally == 0 {
                        oracle.record(round: world.round, impressions: list.count, clicks: clicks.count, purchases: purchases)
                    } else {
                        random.record(round: world.round, impressions: list.count, clicks: clicks.count, purchases: purchases)
                    }
                }
            }
            world.advance()
        }
        let o = try #require(oracle.total.ctr), r = try #require(random.total.ctr)
        #expect(o > 3 * r, "oracle CTR \(o), random CTR \(r)")
        // Realistic ranges: a few per cent for random lists, tens of per cent at best.
        #expect(r > 0.003 && r < 0.06, "random CTR \(r)")
        #expect(o > 0.08 && o < 0.45, "oracle CTR \(o)")
        let oc = try #require(oracle.total.conversion), rc = try #require(random.total.conversion)
        #expect(oc > rc && oc < o, "conversion oracle \(oc), random \(rc)")
    }

    /// The same user, round and item decide alike in whichever list the item appears.
    @Test func decisionsAreKeyedByUserRoundAndItem() throws {
        let world = try SimulatedWorld(configuration: Self.configuration)
        let model = ClickModel(configuration: Self.configuration)
        var agreeing = 0, shared = 0
        for u in 0..<200 {
            let a = (0..<10).map { ($0 * 7 + u) % 300 }
            var b = a
            for p in [2, 5, 8] { b[p] = (b[p] + 150) % 300 }  // other items at three positions
            let ca = model.respond(world, user: u, list: a), cb = model.respond(world, user: u, list: b)
            for p in [0, 1, 3, 4, 6, 7, 9] {
                shared += 1
                if ca.contains(where: { $0.position == p }) == cb.contains(where: { $0.position == p }) { agreeing += 1 }
            }
            #expect(ca.filter { ![2, 5, 8].contains($0.position) } == cb.filter { ![2, 5, 8].contains($0.position) })
        }
        #expect(agreeing == shared)
        // And a different seed decides differently.
        var other = Self.configuration
        other.seed = 12
        let otherWorld = try SimulatedWorld(configuration: other)
        let lists = (0..<200).map { u in (0..<10).map { ($0 * 7 + u) % 300 } }
        let here = lists.enumerated().map { u, l in ClickModel(configuration: Self.configuration).respond(world, user: u, list: l) }
        let there = lists.enumerated().map { u, l in ClickModel(configuration: other).respond(otherWorld, user: u, list: l) }
        #expect(here != there)
    }
}

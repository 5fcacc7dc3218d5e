import StarlingSimulation
import Testing

@Suite("Simulated world")
struct SimulatedWorldTests {
    static func world(seed: UInt64 = 7, users: Int = 400, items: Int = 300) throws -> SimulatedWorld {
        try SimulatedWorld(configuration: SimulationConfiguration(seed: seed, users: users, items: items))
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab: Float = 0, aa: Float = 0, bb: Float = 0
        for k in a.indices { ab += a[k] * b[k]; aa += a[k] * a[k]; bb += b[k] * b[k] }
        return Double(ab / (aa * bb).squareRoot())
    }

    @Test func theWorldIsDeterministicForASeed() throws {
        var a = try Self.world(), b = try Self.world(), other = try Self.world(seed: 8)
        var plansA: [RoundPlan] = [], plansB: [RoundPlan] = [], plansOther: [RoundPlan] = []
        for _ in 0..<25 {
            plansA.append(a.plan()); plansB.append(b.plan()); plansOther.append(other.plan())
            #expect(a.plan() == plansA.last!)  // planning does not change the world
            a.advance(); b.advance(); other.advance()
        }
        #expect(plansA == plansB)
        #expect(a.items == b.items && a.users == b.users && a.risingCategory == b.risingCategory)
        #expect(plansA != plansOther)
        #expect(a.users.map(\.taste) != other.users.map(\.taste))
        // Something did happen: items arrived (every 2 rounds), someone visited and browsed.
        #expect(a.items.count == 300 + 12 * 6)
        #expect(plansA.allSatisfy { $0.visitors.count == 40 && $0.views.count == 80 })
        #expect(plansA.filter { !$0.arrivals.isEmpty }.count == 12)
        #expect(Set(plansA[3].visitors).count == 40)
    }

    @Test func tastesDrift() throws {
        var world = try Self.world()
        let start = world.users.map(\.taste)
        for _ in 0..<150 { world.advance() }
        let cosines = zip(start, world.users).map { Self.cosine($0, $1.taste) }
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        #expect(mean < 0.75, "mean cosine between round-0 and round-150 tastes: \(mean)")
        #expect(world.users.filter { $0.shifts > 0 }.count > world.users.count / 2)
        // Tastes stay unit vectors.
        #expect(world.users.allSatisfy { abs(Self.cosine($0.taste, $0.taste) - 1) < 1e-4 && abs($0.taste.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3 })
        // Tastes move towards their targets: closer to them than at the start, on average.
        let toTarget = world.users.map { Self.cosine($0.taste, $0.target) }.reduce(0, +) / Double(world.users.count)
        #expect(toTarget > 0.8, "mean cosine between taste and target after 150 rounds: \(toTarget)")
    }

    @Test func newItemsSuitDriftedTastes() throws {
        var world = try Self.world()
        let initial = world
        for _ in 0..<150 { world.advance() }
        let newItems = Array(world.configuration.items..<world.items.count), oldItems = Array(0..<world.configuration.items)
        #expect(newItems.count == 75 * 6)
        func meanAttractiveness(_ w: SimulatedWorld, _ items: [Int]) -> Double {
            var total = 0.0
            for u in w.users.indices { for i in items { total += Double(w.attractiveness(user: u, item: i)) } }
            return total / Double(w.users.count * items.count)
        }
        // To the users' current tastes, new items beat the initial catalogue ...
        let newNow = meanAttractiveness(world, newItems), oldNow = meanAttractiveness(world, oldItems)
        #expect(newNow > oldNow + 0.5, "new \(newNow) vs initial catalogue \(oldNow)")
        // ... and they suit the drifted tastes better than the round-0 tastes (affinity only:
        // quality and trends are the same for both).
        var drifted = 0.0, original = 0.0
        for u in world.users.indices {
            for i in newItems {
                drifted += Double(world.affinity(user: u, item: i))
                original += Self.cosineDot(initial.users[u].taste, world.items[i].vector)
            }
        }
        let pairs = Double(world.users.count * newItems.count)
        #expect(drifted > original * 1.2 && drifted > original + 0.05 * pairs,
                "mean affinity of new items: drifted tastes \(drifted / pairs), round-0 tastes \(original / pairs)")
    }

    static func cosineDot(_ a: [Float], _ b: [Float]) -> Double {
        var s: Float = 0
        for k in a.indices { s += a[k] * b[k] }
        return Double(s)
    }

    @Test func trendingItemsAreBoostedForAWhile() throws {
        var world = try Self.world()
        for _ in 0..<5 { world.advance() }
        let trending = try #require(world.items.indices.first { world.items[$0].isTrending(in: world.round) })
        let c = world.configuration
        func base(_ w: SimulatedWorld) -> Float { c.affinityScale * w.affinity(user: 0, item: trending) + w.items[trending].quality }
        #expect(abs(world.attractiveness(user: 0, item: trending) - base(world) - c.trendBoost) < 1e-5)
        for _ in 0..<c.trendDuration { world.advance() }
        #expect(!world.items[trending].isTrending(in: world.round))
        #expect(world.trendBoost(item: trending) == 0)
        #expect(abs(world.attractiveness(user: 0, item: trending) - base(world)) < 1e-5)
    }

    @Test func organicViewsFollowAttractiveness() throws {
        var world = try Self.world()
        var chosen = 0.0, looked = 0.0, n = 0
        for _ in 0..<30 {
            for v in world.plan().views {
                chosen += Double(world.attractiveness(user: v.user, item: v.item))
                // The average item a user could have looked at.
                looked += Double(world.attractiveness(user: v.user, item: (v.user * 31 + n * 17) % world.items.count))
                n += 1
            }
            world.advance()
        }
        #expect(chosen / Double(n) > looked / Double(n) + 1, "viewed \(chosen / Double(n)) vs arbitrary \(looked / Double(n))")
    }

    @Test func invalidSettingsAreRejected() {
        var c = SimulationConfiguration(seed: 1, users: 0, items: 10)
        #expect(throws: SimulationError.invalidSetting(name: "users", reason: "must be at least 1, got 0")) { try SimulatedWorld(configuration: c) }
        c.users = 10
        c.activeShare = 0
        #expect(throws: SimulationError.self) { try SimulatedWorld(configuration: c) }
    }
}

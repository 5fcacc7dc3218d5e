import StarlingData
import Testing

@Suite("Splits, k-core and implicit thresholds")
struct SplitTests {
    /// u0: i0@10 i1@20 i2@30 i3@40 i4@50; u1: i2@5 i1@15; u2: i3@25 — in a shuffled input order.
    static func toy() throws -> Dataset {
        let rows: [(Int32, Int32, Int64)] = [(0, 2, 30), (1, 1, 15), (0, 0, 10), (2, 3, 25), (0, 4, 50), (1, 2, 5), (0, 1, 20), (0, 3, 40)]
        let events = rows.map { Event(user: $0.0, item: $0.1, type: .rating, value: Float($0.2) / 10, timestamp: $0.2) }
        return Dataset(name: "toy", users: try IdVocabulary(ids: ["u0", "u1", "u2"]),
                       items: try IdVocabulary(ids: ["i0", "i1", "i2", "i3", "i4"]), events: EventLog(events))
    }

    /// The input positions of a part's events (timestamps are distinct, so they identify events).
    func positions(_ part: Dataset?) -> [Int] {
        let all: [Int64] = [30, 15, 10, 25, 50, 5, 20, 40]
        return (part?.events.timestamps ?? []).map { all.firstIndex(of: $0)! }
    }

    @Test func leaveOneOutByTime() throws {
        let d = try Self.toy()
        let split = DatasetSplit.leaveOneOut(d)
        #expect(positions(split.train) == [0, 2, 3, 5, 6, 7] && positions(split.test) == [1, 4] && split.validation == nil)
        let withValidation = DatasetSplit.leaveOneOut(d, validation: true)
        #expect(positions(withValidation.train) == [0, 1, 2, 3, 5, 6] && positions(withValidation.validation) == [7]
                && positions(withValidation.test) == [4])
        #expect(split.train.itemCount == 5 && split.test.userCount == 3)
        #expect(split.protocolDescription == "per-user leave-one-out by time")
    }

    @Test func globalTemporalByTimeAndByShare() throws {
        let d = try Self.toy()
        let cut = DatasetSplit.globalTemporal(d, cutoff: 25)
        #expect(positions(cut.train) == [1, 2, 5, 6] && positions(cut.test) == [0, 3, 4, 7])
        let half = DatasetSplit.globalTemporal(d, trainFraction: 0.5)
        #expect(positions(half.train) == [1, 2, 5, 6] && positions(half.test) == [0, 3, 4, 7])
        let three = DatasetSplit.globalTemporal(d, trainFraction: 0.5, validationFraction: 0.25)
        #expect(positions(three.validation) == [0, 3] && positions(three.test) == [4, 7])
        #expect(three.protocolDescription == "global temporal 50/25/25")
    }

    @Test func perUserRatioByTime() throws {
        let d = try Self.toy()
        let split = DatasetSplit.perUserTemporal(d, trainFraction: 0.8)
        #expect(positions(split.train) == [0, 2, 3, 5, 6, 7] && positions(split.test) == [1, 4])
        let three = DatasetSplit.perUserTemporal(d, trainFraction: 0.6, validationFraction: 0.2)
        #expect(positions(three.train) == [0, 2, 3, 5, 6] && positions(three.validation) == [7] && positions(three.test) == [1, 4])
    }

    @Test func randomSplitIsReproducibleAndPartitions() throws {
        let d = try Self.toy()
        let a = DatasetSplit.random(d, trainFraction: 0.75, seed: 1)
        let b = DatasetSplit.random(d, trainFraction: 0.75, seed: 1)
        #expect(a.train.eventCount == 6 && a.test.eventCount == 2)
        #expect(positions(a.train) == positions(b.train) && positions(a.test) == positions(b.test))
        #expect(Set(positions(a.train) + positions(a.test)) == Set(0..<8))
        #expect(positions(a.train) == positions(a.train).sorted())  // input order is kept within a part
        let seeds = (0..<10).map { positions(DatasetSplit.random(d, trainFraction: 0.75, seed: UInt64($0)).test) }
        #expect(Set(seeds).count > 3)
        #expect(a.protocolDescription == "random 75/0/25 per interaction, seed 1")
    }

    @Test func randomEightyTwentyOnMovieLens100K() throws {
        let d = try MovieLens100K.load(root: try TestSupport.root())
        let split = DatasetSplit.random(d, trainFraction: 0.8, seed: 42)
        #expect(split.train.eventCount == 80_000 && split.test.eventCount == 20_000)
        #expect(split.train.userCount == 943 && split.test.itemCount == 1682)
        let train = split.train.interactionMatrix(), test = split.test.interactionMatrix()
        #expect(train.count == 80_000 && test.count == 20_000)
        for u in stride(from: 0, to: 943, by: 7) {
            #expect(!test.items(of: u).contains { train.contains(user: u, item: $0) })
        }
        // Every user keeps some training data with 80% of ≥20 ratings each.
        #expect(split.train.eventsPerUser.min()! >= 8)
        let again = DatasetSplit.random(d, trainFraction: 0.8, seed: 42)
        #expect(again.test.events.users == split.test.events.users && again.test.events.items == split.test.events.items)
        let validated = DatasetSplit.random(d, trainFraction: 0.8, validationFraction: 0.1, seed: 42)
        #expect(validated.train.eventCount == 80_000 && validated.validation?.eventCount == 10_000 && validated.test.eventCount == 10_000)
    }

    @Test func kCoreIsIterative() throws {
        let pairs: [(Int32, Int32)] = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 2), (2, 3), (3, 0)]
        let d = Dataset(name: "k", users: try IdVocabulary(ids: ["u0", "u1", "u2", "u3"]),
                        items: try IdVocabulary(ids: ["i0", "i1", "i2", "i3"]),
                        events: EventLog(pairs.map { Event(user: $0.0, item: $0.1, type: .like) }))
        let core = d.kCore(userMinimum: 2, itemMinimum: 2)
        #expect(core.users.ids == ["u0", "u1"] && core.items.ids == ["i0", "i1"])
        #expect(TestSupport.rows(core) == ["u0 i0 like 1.0", "u0 i1 like 1.0", "u1 i0 like 1.0", "u1 i1 like 1.0"])
        #expect(d.kCore(userMinimum: 1, itemMinimum: 1).eventCount == 8)
        #expect(d.kCore(userMinimum: 3, itemMinimum: 1).users.ids == ["u0"])
        #expect(d.kCore(userMinimum: 3, itemMinimum: 3).eventCount == 0)
        // On MovieLens 100K (every user has ≥ 20 ratings), a 20-core removes only rarely rated movies.
        let ml = try MovieLens100K.load(root: try TestSupport.root())
        let ml20 = ml.kCore(userMinimum: 20, itemMinimum: 20)
        #expect(ml20.eventsPerUser.min()! >= 20 && ml20.eventsPerItem.min()! >= 20 && ml20.itemCount < 1682)
    }

    @Test func ratingsToImplicitPositives() throws {
        let events = [Event(user: 0, item: 0, type: .rating, value: 5), Event(user: 0, item: 1, type: .rating, value: 3),
                      Event(user: 1, item: 0, type: .rating, value: 4), Event(user: 1, item: 1, type: .rating, value: 1),
                      Event(user: 1, item: 1, type: .click, value: 1)]
        let d = Dataset(name: "r", users: try IdVocabulary(ids: ["a", "b"]), items: try IdVocabulary(ids: ["x", "y"]), events: EventLog(events))
        let positives = d.implicit(threshold: 4)
        #expect(TestSupport.rows(positives) == ["a x rating 1.0", "b x rating 1.0", "b y click 1.0"])
        #expect(d.implicit(threshold: 4, types: nil).eventCount == 2)
        let ml = try MovieLens100K.load(root: try TestSupport.root()).implicit(threshold: 4)
        #expect(ml.eventCount == 34_174 + 21_201 && ml.userCount == 943)
    }
}

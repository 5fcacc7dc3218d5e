import Foundation
import StarlingData
import StarlingModels
import Testing

@Suite("Incremental iALS")
struct IncrementalALSTests {
    static let ials = IALS.Configuration(factors: 32, regularization: 5, alpha: 5, iterations: 10, seed: 3, threads: 1)

    /// Recall@20 on `test` pairs of users folded in (exactly) from `history`, history items excluded.
    static func recall(_ model: IALS, history: [[Int32]], test: [[Int32]]) throws -> Double {
        var total = 0.0, users = 0
        for (u, wanted) in test.enumerated() where !wanted.isEmpty && !history[u].isEmpty {
            var scores = model.scoreAllItems(history: history[u], values: nil)
            for i in history[u] { scores[Int(i)] = -.infinity }
            let top = Set(scores.indices.sorted { scores[$0] > scores[$1] }.prefix(20).map { Int32($0) })
            total += Double(Set(wanted).intersection(top).count) / Double(min(20, Set(wanted).count))
            users += 1
        }
        return total / Double(users)
    }

    /// MovieLens-100K in time order: iALS fitted on the oldest 70%, the next 20% streamed through
    /// the incremental trainer in batches of 1,000, Recall@20 on the newest 10% (full ranking,
    /// users folded in from their 90% history, those items excluded). Streaming must beat the model
    /// frozen after the first 70% — both fold users in from the same history, so the difference is
    /// the item factors the stream updated.
    @Test func streamingTheMiddleOfMovieLens100KBeatsTheFrozenModelOnTheNewestEvents() throws {
        let d = try MovieLens100K.load(root: try DataRoot.resolve())
        let log = d.events, times = try #require(log.timestamps)
        let order = (0..<log.count).sorted { times[$0] != times[$1] ? times[$0] < times[$1] : $0 < $1 }
        let a = order[..<70_000], b = order[70_000..<90_000], c = order[90_000...]
        let base = try IALS.fit(InteractionMatrix(userCount: d.userCount, itemCount: d.itemCount,
                                                  pairs: a.map { (log.users[$0], log.items[$0]) }), configuration: Self.ials)
        var history = [[Int32]](repeating: [], count: d.userCount), test = history
        for e in a.concatenated(with: b) where !history[Int(log.users[e])].contains(log.items[e]) { history[Int(log.users[e])].append(log.items[e]) }
        for e in c { test[Int(log.users[e])].append(log.items[e]) }
        func interaction(_ e: Int) -> IncrementalALS.Interaction {
            IncrementalALS.Interaction(user: d.users.ids[Int(log.users[e])], item: d.items.ids[Int(log.items[e])], timestampMs: times[e] * 1000)
        }
        let trainer = try IncrementalALS(base: base, itemIds: d.items.ids,
                                         configuration: .init(regularization: Self.ials.regularization, alpha: Self.ials.alpha, cgSteps: 3))
        trainer.load(a.map(interaction))
        var k = b.startIndex
        while k < b.endIndex {
            let report = trainer.update(b[k..<min(b.endIndex, k + 1000)].map(interaction))
            #expect(report.interactions == min(1000, b.endIndex - k) && report.itemsSolved > 0)
            k += 1000
        }
        let streamed = trainer.snapshot()
        #expect(streamed.itemIds == d.items.ids && streamed.model.itemCount == d.itemCount)
        let frozen = try Self.recall(base, history: history, test: test)
        let online = try Self.recall(streamed.model, history: history, test: test)
        print("ML-100K temporal 70/20/10, Recall@20 on the newest 10%: frozen \(frozen), streamed \(online)")
        #expect(online > frozen * 1.02, "streamed \(online) vs frozen \(frozen)")
    }

    @Test func unseenItemsAreAdmittedAfterEnoughEventsAndLearnTheirUsersTaste() throws {
        // Two tastes: users 0–49 like items 0–9, users 50–99 like items 10–19.
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<100 { for i in 0..<10 { pairs.append((Int32(u), Int32(u < 50 ? i : 10 + i))) } }
        let base = try IALS.fit(InteractionMatrix(userCount: 100, itemCount: 20, pairs: pairs), configuration: Self.ials)
        let trainer = try IncrementalALS(base: base, itemIds: (0..<20).map { "i\($0)" },
                                         configuration: .init(regularization: 5, alpha: 5, admitAfter: 3, pendingTTLMs: 1000))
        trainer.load(pairs.map { .init(user: "u\($0.user)", item: "i\($0.item)", timestampMs: 0) })
        // Two events on a new item: held, not admitted.
        var report = trainer.update([.init(user: "u1", item: "new", timestampMs: 10), .init(user: "u2", item: "new", timestampMs: 20)])
        #expect(report.pendingEvents == 2 && report.admittedItems == 0 && trainer.itemRow("new") == nil && trainer.pendingItemCount == 1)
        // The third, within the TTL, admits it with all three users' events.
        report = trainer.update([.init(user: "u3", item: "new", timestampMs: 30)])
        let row = try #require(trainer.itemRow("new"))
        #expect(report.admittedItems == 1 && trainer.itemCount == 21 && trainer.history(of: "u1").items.contains(row))
        for u in 4..<20 { trainer.update([.init(user: "u\(u)", item: "new", timestampMs: 40)]) }
        // The new item is liked by the first taste group: it must score higher for them.
        let fan = try #require(trainer.userVector(of: "u30")), other = try #require(trainer.userVector(of: "u70"))
        #expect(trainer.score(fan, item: row) > trainer.score(other, item: row) + 0.1)
        // A stray id seen twice, then silent past the TTL, is forgotten.
        trainer.update([.init(user: "u1", item: "stray", timestampMs: 100), .init(user: "u2", item: "stray", timestampMs: 100)])
        #expect(trainer.pendingItemCount == 1)
        #expect(trainer.expire(nowMs: 2000).pendingItems == 1 && trainer.pendingItemCount == 0)
    }

    /// An item the base model never saw but the loaded history admits gets a solved vector from
    /// `load` itself, not a zero row that scores nothing until a new event touches it.
    @Test func itemsAdmittedByTheLoadedHistoryAreSolvedThere() throws {
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<100 { for i in 0..<10 { pairs.append((Int32(u), Int32(u < 50 ? i : 10 + i))) } }
        let base = try IALS.fit(InteractionMatrix(userCount: 100, itemCount: 20, pairs: pairs), configuration: Self.ials)
        let trainer = try IncrementalALS(base: base, itemIds: (0..<20).map { "i\($0)" },
                                         configuration: .init(regularization: 5, alpha: 5, admitAfter: 3, pendingTTLMs: 1000))
        // The history has a new item liked by ten users of the first taste group.
        let history = pairs.map { IncrementalALS.Interaction(user: "u\($0.user)", item: "i\($0.item)", timestampMs: 0) }
            + (0..<10).map { IncrementalALS.Interaction(user: "u\($0)", item: "new", timestampMs: 0) }
        trainer.load(history)
        let row = try #require(trainer.itemRow("new"))
        #expect(trainer.itemVector(row).contains { $0 != 0 })
        let fan = try #require(trainer.userVector(of: "u30")), other = try #require(trainer.userVector(of: "u70"))
        #expect(trainer.score(fan, item: row) > trainer.score(other, item: row) + 0.1)
    }

    @Test func silentUsersExpireAndFreeTheirRows() throws {
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<20 { for i in 0..<5 { pairs.append((Int32(u), Int32((u + i) % 10))) } }
        let base = try IALS.fit(InteractionMatrix(userCount: 20, itemCount: 10, pairs: pairs), configuration: Self.ials)
        let trainer = try IncrementalALS(base: base, itemIds: (0..<10).map { "i\($0)" },
                                         configuration: .init(userTTLMs: 1000))
        trainer.load(pairs.map { .init(user: "u\($0.user)", item: "i\($0.item)", timestampMs: $0.user < 10 ? 0 : 5000) })
        #expect(trainer.userCount == 20)
        #expect(trainer.expire(nowMs: 5500).users == 10)
        #expect(trainer.userCount == 10 && trainer.userVector(of: "u0") == nil && trainer.history(of: "u0").items.isEmpty)
        // A new user reuses a freed row; the old user's interactions are gone from the items.
        trainer.update([.init(user: "fresh", item: "i3", timestampMs: 6000)])
        #expect(trainer.userCount == 11 && trainer.history(of: "fresh").items == [3])
    }

    @Test func rebaseTakesAFullRetrainsFactorsAndKeepsItemsOnlyTheStreamKnows() throws {
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<30 { for i in 0..<4 { pairs.append((Int32(u), Int32((u + i) % 8))) } }
        let matrix = InteractionMatrix(userCount: 30, itemCount: 8, pairs: pairs)
        let base = try IALS.fit(matrix, configuration: Self.ials)
        var other = Self.ials
        other.seed = 99
        other.iterations = 3
        let retrained = try IALS.fit(matrix, configuration: other)
        let ids = (0..<8).map { "i\($0)" }
        let trainer = try IncrementalALS(base: base, itemIds: ids, configuration: .init(admitAfter: 1))
        trainer.load(pairs.map { .init(user: "u\($0.user)", item: "i\($0.item)", timestampMs: 0) })
        trainer.update([.init(user: "u1", item: "extra", timestampMs: 1)])
        let extra = try #require(trainer.itemRow("extra"))
        let before = trainer.itemVector(extra)
        try trainer.rebase(on: retrained, itemIds: ids)
        #expect(trainer.itemVector(0) == retrained.snapshotItemVector(0) && trainer.itemVector(extra) == before)
        #expect(throws: ModelError.self) { try trainer.rebase(on: retrained, itemIds: Array(ids.prefix(3))) }
    }
}

extension IALS {
    func snapshotItemVector(_ i: Int) -> [Float] {
        let t = itemFactors
        return (0..<factors).map { t.readPointer[i * factors + $0] }
    }
}

extension ArraySlice where Element == Int {
    func concatenated(with other: ArraySlice<Int>) -> [Int] { Array(self) + Array(other) }
}

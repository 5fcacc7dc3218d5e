import StarlingData
import Testing

@Suite("Datasets and their matrices")
struct DatasetTests {
    /// Two users, three items; events out of time order, with repeats.
    static func shop() throws -> Dataset {
        let events: [Event] = [
            Event(user: 0, item: 0, type: .view, value: 1, timestamp: 30),
            Event(user: 0, item: 0, type: .purchase, value: 1, timestamp: 40),
            Event(user: 0, item: 1, type: .rating, value: 4, timestamp: 20),
            Event(user: 0, item: 1, type: .rating, value: 2, timestamp: 10),  // older: input order is not time order
            Event(user: 1, item: 2, type: .view, value: 1, timestamp: 5),
            Event(user: 1, item: 2, type: .view, value: 1, timestamp: 6),
            Event(user: 1, item: 0, type: EventType("wishlist"), value: 1, timestamp: 7),
        ]
        return Dataset(name: "shop", users: try IdVocabulary(ids: ["ann", "bob"]), items: try IdVocabulary(ids: ["a", "b", "c"]),
                       events: EventLog(events), itemMetadata: [ItemMetadata(title: "A", categories: ["x"]), .empty, .empty])
    }

    @Test func eventLogKeepsColumnsAndTypes() throws {
        let d = try Self.shop()
        #expect(d.userCount == 2 && d.itemCount == 3 && d.eventCount == 7)
        #expect(d.events.hasTimestamps && d.events.types == [.view, .purchase, .rating, EventType("wishlist")])
        #expect(d.events[6] == Event(user: 1, item: 0, type: "wishlist", value: 1, timestamp: 7))
        #expect(d.events.typeCounts == [.view: 3, .purchase: 1, .rating: 2, "wishlist": 1])
        #expect(d.events.timeOrder() == [4, 5, 6, 3, 2, 0, 1])
        #expect(d.metadata(ofItem: "a")?.title == "A" && d.metadata(ofItem: "zz") == nil)
        #expect(d.eventsPerUser == [4, 3] && d.eventsPerItem == [3, 2, 2])
    }

    @Test func matricesChooseTypesValuesAndDuplicates() throws {
        let d = try Self.shop()
        // Binary, all types: pairs (0,0) (0,1) (1,0) (1,2).
        let binary = d.interactionMatrix()
        #expect(binary.count == 4 && Array(binary.items(of: 0)) == [0, 1] && Array(binary.items(of: 1)) == [0, 2])
        // Ratings only, the latest rating wins although it comes first in the input.
        let ratings = d.interactionMatrix(types: [.rating], value: .eventValue, duplicates: .last)
        #expect(ratings.count == 1 && ratings.value(user: 0, item: 1) == 4)
        // Counts of views.
        let views = d.interactionMatrix(types: [.view], value: .one, duplicates: .sum)
        #expect(views.value(user: 1, item: 2) == 2 && views.value(user: 0, item: 0) == 1 && views.count == 2)
        // Weighted events, strongest kept; types without a weight are left out.
        let weighted = d.interactionMatrix(value: .weights([.view: 1, .purchase: 5]), duplicates: .max)
        #expect(weighted.count == 2 && weighted.value(user: 0, item: 0) == 5 && weighted.value(user: 1, item: 2) == 1)
    }

    @Test func selectionFilteringAndCompaction() throws {
        let d = try Self.shop()
        let views = d.filtering(types: [.view])
        #expect(views.eventCount == 3 && views.userCount == 2 && views.itemCount == 3)
        let compact = views.compacted()
        #expect(compact.items.ids == ["a", "c"] && compact.users.ids == ["ann", "bob"])
        #expect(TestSupport.rows(compact) == ["ann a view 1.0 30", "bob c view 1.0 5", "bob c view 1.0 6"])
        #expect(compact.itemMetadata.map(\.title) == ["A", nil])
        let bob = d.filteringEvents { $0.user == 1 }.compacted()
        #expect(bob.users.ids == ["bob"] && bob.items.ids == ["a", "c"] && bob.eventCount == 3)
        let implicit = d.implicit(threshold: 3)
        #expect(implicit.eventCount == 6 && implicit.events.values.allSatisfy { $0 == 1 })
        #expect(implicit.interactionMatrix(types: [.rating]).count == 1)
    }
}

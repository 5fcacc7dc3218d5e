/// One interaction dataset, whatever file it came from: the users and items (external ids ↔
/// dense indices), what is known about them, and the events between them.
///
/// Readers (``MovieLens100K``, ``MovieLens1M``, ``MovieLensLatest``, ``RecBoleAtomicFiles``,
/// ``SASRecSequences``, ``TaobaoUserBehavior``, ``InteractionFileReader``) produce it; splits
/// (``DatasetSplit``) and filters (``kCore(userMinimum:itemMinimum:)``, ``implicit(threshold:)``)
/// transform it; ``interactionMatrix(types:value:duplicates:)`` hands it to the models.
public struct Dataset: Sendable {
    /// A short name for reports (`ml-100k`).
    public let name: String
    /// User ids ↔ user indices.
    public let users: IdVocabulary
    /// Item ids ↔ item indices.
    public let items: IdVocabulary
    /// The events, with dense indices into ``users`` and ``items``.
    public let events: EventLog
    /// One entry per item (``ItemMetadata/empty`` where the source says nothing).
    public let itemMetadata: [ItemMetadata]
    /// One entry per user: demographic or profile fields by name (empty where there are none).
    public let userAttributes: [[String: String]]
    /// What the readers did with each file (lines read, skipped, why).
    public let reports: [ReadReport]

    /// A dataset; `itemMetadata` and `userAttributes` may be empty (nothing known) or have one
    /// entry per item / user.
    public init(name: String, users: IdVocabulary, items: IdVocabulary, events: EventLog,
                itemMetadata: [ItemMetadata] = [], userAttributes: [[String: String]] = [], reports: [ReadReport] = []) {
        precondition(itemMetadata.isEmpty || itemMetadata.count == items.count,
                     "Dataset: \(itemMetadata.count) metadata entries for \(items.count) items")
        precondition(userAttributes.isEmpty || userAttributes.count == users.count,
                     "Dataset: \(userAttributes.count) attribute entries for \(users.count) users")
        let userCount = Int32(users.count), itemCount = Int32(items.count)
        precondition(events.users.allSatisfy { $0 >= 0 && $0 < userCount } && events.items.allSatisfy { $0 >= 0 && $0 < itemCount },
                     "Dataset: an event lies outside \(userCount) users × \(itemCount) items")
        self.name = name
        self.users = users
        self.items = items
        self.events = events
        self.itemMetadata = itemMetadata.isEmpty ? Array(repeating: .empty, count: items.count) : itemMetadata
        self.userAttributes = userAttributes.isEmpty ? Array(repeating: [:], count: users.count) : userAttributes
        self.reports = reports
    }

    /// The number of users.
    public var userCount: Int { users.count }
    /// The number of items.
    public var itemCount: Int { items.count }
    /// The number of events.
    public var eventCount: Int { events.count }

    /// The metadata of the item with external id `id`.
    public func metadata(ofItem id: String) -> ItemMetadata? {
        items.index(of: id).map { itemMetadata[Int($0)] }
    }

    /// How an event becomes a matrix value.
    public enum InteractionValue: Sendable {
        /// Every interaction is 1 (with ``InteractionMatrix/DuplicatePolicy/sum``: event counts).
        case one
        /// The event's own value (the rating).
        case eventValue
        /// A weight per event type (e.g. view 1, cart 3, purchase 5); other types are left out.
        case weights([EventType: Float])
    }

    /// The user × item matrix of the events of `types` (all when `nil`). Entries are fed in time
    /// order, so ``InteractionMatrix/DuplicatePolicy/last`` keeps the latest event of a pair.
    public func interactionMatrix(types: Set<EventType>? = nil, value: InteractionValue = .one,
                                  duplicates: InteractionMatrix.DuplicatePolicy = .last) -> InteractionMatrix {
        var keep = [Bool](repeating: true, count: events.types.count)
        var weight = [Float](repeating: 1, count: events.types.count)
        for (code, type) in events.types.enumerated() {
            if let types, !types.contains(type) { keep[code] = false }
            if case let .weights(w) = value {
                if let x = w[type] { weight[code] = x } else { keep[code] = false }
            }
        }
        let useValues: Bool
        switch value {
        case .one: useValues = false
        case .eventValue, .weights: useValues = true
        }
        var entries: [(user: Int32, item: Int32, value: Float)] = []
        entries.reserveCapacity(events.count)
        for k in events.timeOrder() {
            let code = Int(events.typeCodes[k])
            guard keep[code] else { continue }
            let v: Float
            if case .weights = value { v = weight[code] } else { v = useValues ? events.values[k] : 1 }
            entries.append((events.users[k], events.items[k], v))
        }
        return InteractionMatrix(userCount: userCount, itemCount: itemCount, entries: entries, duplicates: duplicates)
    }

    /// The dataset with only the events at `indices` (in that order); users, items and their
    /// metadata are kept, so matrices of several selections have the same shape.
    public func selectingEvents(_ indices: [Int], name: String? = nil) -> Dataset {
        Dataset(name: name ?? self.name, users: users, items: items, events: events.selecting(indices),
                itemMetadata: itemMetadata, userAttributes: userAttributes, reports: reports)
    }

    /// The dataset with only the events for which `isIncluded` is true.
    public func filteringEvents(name: String? = nil, _ isIncluded: (Event) -> Bool) -> Dataset {
        selectingEvents((0..<events.count).filter { isIncluded(events[$0]) }, name: name)
    }

    /// The dataset without users and items that have no events, renumbered in their previous
    /// order.
    public func compacted() -> Dataset {
        var userUsed = [Bool](repeating: false, count: userCount)
        var itemUsed = [Bool](repeating: false, count: itemCount)
        for u in events.users { userUsed[Int(u)] = true }
        for i in events.items { itemUsed[Int(i)] = true }
        if !userUsed.contains(false) && !itemUsed.contains(false) { return self }
        func plan(_ used: [Bool]) -> (kept: [Int32], map: [Int32]) {
            var kept: [Int32] = [], map = [Int32](repeating: -1, count: used.count)
            for (k, u) in used.enumerated() where u { map[k] = Int32(kept.count); kept.append(Int32(k)) }
            return (kept, map)
        }
        let (keptUsers, userMap) = plan(userUsed)
        let (keptItems, itemMap) = plan(itemUsed)
        return Dataset(name: name, users: users.subset(keptUsers), items: items.subset(keptItems),
                       events: events.remapped(users: userMap, items: itemMap),
                       itemMetadata: keptItems.map { itemMetadata[Int($0)] },
                       userAttributes: keptUsers.map { userAttributes[Int($0)] }, reports: reports)
    }

    /// The same dataset under another name.
    public func renamed(_ newName: String) -> Dataset {
        Dataset(name: newName, users: users, items: items, events: events, itemMetadata: itemMetadata,
                userAttributes: userAttributes, reports: reports)
    }

    /// The number of events of each user.
    public var eventsPerUser: [Int] {
        var c = [Int](repeating: 0, count: userCount)
        for u in events.users { c[Int(u)] += 1 }
        return c
    }

    /// The number of events of each item.
    public var eventsPerItem: [Int] {
        var c = [Int](repeating: 0, count: itemCount)
        for i in events.items { c[Int(i)] += 1 }
        return c
    }
}

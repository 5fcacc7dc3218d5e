extension Dataset {
    /// The k-core: events are removed, repeatedly, while some user has fewer than `userMinimum`
    /// events or some item fewer than `itemMinimum` (events are counted, so repeated events of a
    /// pair count several times, as in RecBole). The result keeps only users and items with events,
    /// renumbered in their previous order (``compacted()``).
    public func kCore(userMinimum: Int, itemMinimum: Int) -> Dataset {
        var alive = [Bool](repeating: true, count: eventCount)
        var userCounts = [Int](repeating: 0, count: userCount)
        var itemCounts = [Int](repeating: 0, count: itemCount)
        let users = events.users, items = events.items
        while true {
            for k in userCounts.indices { userCounts[k] = 0 }
            for k in itemCounts.indices { itemCounts[k] = 0 }
            for k in 0..<eventCount where alive[k] {
                userCounts[Int(users[k])] += 1
                itemCounts[Int(items[k])] += 1
            }
            var removed = false
            for k in 0..<eventCount where alive[k] {
                if userCounts[Int(users[k])] < userMinimum || itemCounts[Int(items[k])] < itemMinimum {
                    alive[k] = false
                    removed = true
                }
            }
            if !removed { break }
        }
        return selectingEvents((0..<eventCount).filter { alive[$0] }, name: "\(name) (\(userMinimum),\(itemMinimum))-core").compacted()
    }

    /// Explicit ratings turned into implicit positives: events with value ≥ `threshold` are kept
    /// with value 1 (e.g. rating ≥ 4 → positive), the others are dropped. Only events of `types`
    /// are thresholded (all when `nil`); other events are kept as they are. Users and items keep
    /// their indices.
    public func implicit(threshold: Float, types: Set<EventType>? = [.rating]) -> Dataset {
        var kept: [Int] = []
        var values: [Float] = []
        kept.reserveCapacity(eventCount)
        for k in 0..<eventCount {
            let applies = types.map { $0.contains(events.type(at: k)) } ?? true
            if !applies { kept.append(k); values.append(events.values[k]); continue }
            if events.values[k] >= threshold { kept.append(k); values.append(1) }
        }
        let selected = events.selecting(kept).withValues(values)
        return Dataset(name: "\(name) (≥\(threshold) positive)", users: self.users, items: self.items, events: selected,
                       itemMetadata: itemMetadata, userAttributes: userAttributes, reports: reports)
    }

    /// Only the events of `types`.
    public func filtering(types: Set<EventType>) -> Dataset {
        let keep = events.types.map { types.contains($0) }
        return selectingEvents((0..<eventCount).filter { keep[Int(events.typeCodes[$0])] })
    }
}

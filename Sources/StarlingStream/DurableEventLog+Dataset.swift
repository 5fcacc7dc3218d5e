import StarlingData

extension DurableEventLog {
    /// The logged events as a ``Dataset`` for (re)training: users and items numbered in order of
    /// first appearance, timestamps in Unix seconds, events in append order.
    public func dataset(name: String = "event-log") throws -> Dataset {
        let logged = try events()
        var userIndex: [String: Int32] = [:], itemIndex: [String: Int32] = [:]
        var userIds: [String] = [], itemIds: [String] = []
        var log = EventLog(hasTimestamps: true)
        log.reserveCapacity(logged.count)
        for e in logged {
            let u = userIndex[e.user] ?? {
                userIds.append(e.user)
                userIndex[e.user] = Int32(userIds.count - 1)
                return Int32(userIds.count - 1)
            }()
            let i = itemIndex[e.item] ?? {
                itemIds.append(e.item)
                itemIndex[e.item] = Int32(itemIds.count - 1)
                return Int32(itemIds.count - 1)
            }()
            log.append(Event(user: u, item: i, type: e.type, value: e.value, timestamp: e.timestamp / 1000))
        }
        return Dataset(name: name, users: try IdVocabulary(ids: userIds), items: try IdVocabulary(ids: itemIds), events: log)
    }
}

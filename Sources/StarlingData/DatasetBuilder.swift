/// What readers fill while they parse: ids interned as met, events with provisional indices,
/// metadata and attributes by provisional index. ``build(name:order:)`` renumbers everything in
/// the requested ``IdOrder``.
struct DatasetBuilder {
    var users = IdInterner()
    var items = IdInterner()
    var events: EventLog
    var itemMetadata: [ItemMetadata] = []
    var userAttributes: [[String: String]] = []
    var reports: [ReadReport] = []

    init(hasTimestamps: Bool) {
        events = EventLog(hasTimestamps: hasTimestamps)
    }

    /// The index of item `key`, with room for its metadata.
    mutating func item(_ key: IdInterner.Key) -> Int32 {
        let k = items.intern(key)
        while itemMetadata.count < items.count { itemMetadata.append(.empty) }
        return k
    }

    /// The index of user `key`, with room for their attributes.
    mutating func user(_ key: IdInterner.Key) -> Int32 {
        let k = users.intern(key)
        while userAttributes.count < users.count { userAttributes.append([:]) }
        return k
    }

    /// The code of `type` in the event log, or a line error when 256 types are in use.
    mutating func code(for type: EventType, line: DelimitedText.Line) throws(DataError) -> UInt8 {
        guard let c = events.code(for: type) else {
            throw line.malformed("more than 256 distinct event types (is the event-type column the right one?)")
        }
        return c
    }

    func build(name: String, order: IdOrder) -> Dataset {
        let (userVocabulary, userMap) = users.finish(order: order)
        let (itemVocabulary, itemMap) = items.finish(order: order)
        var metadata = itemMetadata
        while metadata.count < items.count { metadata.append(.empty) }
        var attributes = userAttributes
        while attributes.count < users.count { attributes.append([:]) }
        if let itemMap {
            var m = metadata
            for (old, new) in itemMap.enumerated() { m[Int(new)] = metadata[old] }
            metadata = m
        }
        if let userMap {
            var a = attributes
            for (old, new) in userMap.enumerated() { a[Int(new)] = attributes[old] }
            attributes = a
        }
        let log = (userMap == nil && itemMap == nil) ? events : events.remapped(users: userMap, items: itemMap)
        return Dataset(name: name, users: userVocabulary, items: itemVocabulary, events: log,
                       itemMetadata: metadata, userAttributes: attributes, reports: reports)
    }
}

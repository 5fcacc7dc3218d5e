/// One event of an ``EventLog``, as a value.
public struct Event: Sendable, Equatable {
    /// The user's dense index.
    public var user: Int32
    /// The item's dense index.
    public var item: Int32
    /// What happened.
    public var type: EventType
    /// The rating, or the event's weight (1 for plain implicit feedback).
    public var value: Float
    /// Unix seconds, when the source has them.
    public var timestamp: Int64?

    /// An event; value 1 and no timestamp unless given.
    public init(user: Int32, item: Int32, type: EventType, value: Float = 1, timestamp: Int64? = nil) {
        self.user = user
        self.item = item
        self.type = type
        self.value = value
        self.timestamp = timestamp
    }
}

/// Events in input order, stored column by column (dense user and item indices, an event-type
/// code into ``types``, a value, and Unix-second timestamps when the source has them). Without
/// timestamps, the input order is the time order (sequence files are written that way).
public struct EventLog: Sendable {
    /// Each event's user index.
    public private(set) var users: [Int32] = []
    /// Each event's item index.
    public private(set) var items: [Int32] = []
    /// Each event's type, as an index into ``types``.
    public private(set) var typeCodes: [UInt8] = []
    /// The event types in use, indexed by code (at most 256).
    public private(set) var types: [EventType] = []
    /// Each event's value: the rating, or the weight of an implicit event (1 by default).
    public private(set) var values: [Float] = []
    /// Each event's Unix-second timestamp, or `nil` when the source has none.
    public private(set) var timestamps: [Int64]?

    /// An empty log, with or without a timestamp column.
    public init(hasTimestamps: Bool) {
        timestamps = hasTimestamps ? [] : nil
    }

    /// A log of `events`; it has timestamps when every event has one.
    public init(_ events: [Event]) {
        let timed = !events.isEmpty && events.allSatisfy { $0.timestamp != nil }
        self.init(hasTimestamps: timed)
        reserveCapacity(events.count)
        for e in events { append(e) }
    }

    /// The number of events.
    @inlinable public var count: Int { users.count }
    /// Whether the events carry timestamps.
    public var hasTimestamps: Bool { timestamps != nil }

    /// Reserves room for `n` events.
    public mutating func reserveCapacity(_ n: Int) {
        users.reserveCapacity(n); items.reserveCapacity(n); typeCodes.reserveCapacity(n); values.reserveCapacity(n)
        timestamps?.reserveCapacity(n)
    }

    /// The code of `type`, registering it if new; `nil` when 256 types are already in use.
    public mutating func code(for type: EventType) -> UInt8? {
        if let k = types.firstIndex(of: type) { return UInt8(k) }
        guard types.count < 256 else { return nil }
        types.append(type)
        return UInt8(types.count - 1)
    }

    /// Appends an event whose type is already registered (see ``code(for:)``). `timestamp` is
    /// ignored by a log without timestamps.
    public mutating func append(user: Int32, item: Int32, typeCode: UInt8, value: Float, timestamp: Int64) {
        users.append(user)
        items.append(item)
        typeCodes.append(typeCode)
        values.append(value)
        timestamps?.append(timestamp)
    }

    /// Appends `event`. A log with timestamps needs one on every event.
    public mutating func append(_ event: Event) {
        guard let code = code(for: event.type) else { preconditionFailure("EventLog: more than 256 event types") }
        precondition(timestamps == nil || event.timestamp != nil, "EventLog: an event without a timestamp in a log with timestamps")
        append(user: event.user, item: event.item, typeCode: code, value: event.value, timestamp: event.timestamp ?? 0)
    }

    /// Event `k` as a value.
    public subscript(k: Int) -> Event {
        Event(user: users[k], item: items[k], type: types[Int(typeCodes[k])], value: values[k], timestamp: timestamps?[k])
    }

    /// Event `k`'s type.
    public func type(at k: Int) -> EventType { types[Int(typeCodes[k])] }

    /// How many events of each type.
    public var typeCounts: [EventType: Int] {
        var counts = [Int](repeating: 0, count: types.count)
        for c in typeCodes { counts[Int(c)] += 1 }
        var out: [EventType: Int] = [:]
        for (k, t) in types.enumerated() where counts[k] > 0 { out[t] = counts[k] }
        return out
    }

    /// The events at `indices`, in that order (type codes and the type table are kept).
    public func selecting(_ indices: [Int]) -> EventLog {
        var out = EventLog(hasTimestamps: hasTimestamps)
        out.types = types
        out.users = indices.map { users[$0] }
        out.items = indices.map { items[$0] }
        out.typeCodes = indices.map { typeCodes[$0] }
        out.values = indices.map { values[$0] }
        if let timestamps { out.timestamps = indices.map { timestamps[$0] } }
        return out
    }

    /// The event indices in time order: by timestamp, ties (and a log without timestamps) in
    /// input order. Deterministic.
    public func timeOrder() -> [Int] {
        guard let timestamps else { return Array(0..<count) }
        // Already sorted is common (logs are appended in time order): check first.
        var sorted = true
        for k in 1..<max(1, count) where timestamps[k] < timestamps[k - 1] { sorted = false; break }
        if sorted { return Array(0..<count) }
        return (0..<count).sorted { a, b in
            timestamps[a] != timestamps[b] ? timestamps[a] < timestamps[b] : a < b
        }
    }

    /// Each user's event indices in time order (see ``timeOrder()``), as compressed rows:
    /// user `u`'s events are `order[start[u]..<start[u + 1]]`.
    public func eventsByUser(userCount: Int) -> (start: [Int], order: [Int]) {
        var start = [Int](repeating: 0, count: userCount + 1)
        for u in users { start[Int(u) + 1] += 1 }
        for u in 0..<userCount { start[u + 1] += start[u] }
        var fill = start
        var order = [Int](repeating: 0, count: count)
        for k in timeOrder() {
            let u = Int(users[k])
            order[fill[u]] = k
            fill[u] += 1
        }
        return (start, order)
    }

    /// Renumbers users and items (`-1` drops the event); used when vocabularies are reordered
    /// or compacted.
    func remapped(users userMap: [Int32]?, items itemMap: [Int32]?) -> EventLog {
        if !(userMap?.contains(-1) ?? false) && !(itemMap?.contains(-1) ?? false) {
            // Nothing is dropped: renumber the two columns, share the others.
            var out = self
            if let userMap { out.users = users.map { userMap[Int($0)] } }
            if let itemMap { out.items = items.map { itemMap[Int($0)] } }
            return out
        }
        var out = EventLog(hasTimestamps: hasTimestamps)
        out.types = types
        out.reserveCapacity(count)
        for k in 0..<count {
            let u = userMap.map { $0[Int(users[k])] } ?? users[k]
            let i = itemMap.map { $0[Int(items[k])] } ?? items[k]
            if u < 0 || i < 0 { continue }
            out.append(user: u, item: i, typeCode: typeCodes[k], value: values[k], timestamp: timestamps?[k] ?? 0)
        }
        return out
    }

    /// The same events with values replaced.
    func withValues(_ newValues: [Float]) -> EventLog {
        precondition(newValues.count == count)
        var out = self
        out.values = newValues
        return out
    }
}

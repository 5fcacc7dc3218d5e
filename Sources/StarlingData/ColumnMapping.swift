/// Which columns of a file hold what, for ``InteractionFileReader``.
public struct ColumnMapping: Sendable {
    /// A column by header name (or JSON key), or by 0-based position.
    public enum Column: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
        case name(String)
        case index(Int)

        /// A column by header name or JSON key.
        public init(stringLiteral value: String) { self = .name(value) }
        /// A column by 0-based position.
        public init(integerLiteral value: Int) { self = .index(value) }

        public var description: String {
            switch self {
            case let .name(n): return "'\(n)'"
            case let .index(i): return "column \(i + 1)"
            }
        }
    }

    /// How timestamps are written.
    public enum TimestampFormat: Sendable {
        /// Unix seconds (integer or decimal), else ISO 8601 (`2017-11-26T09:00:00Z`, `2017-11-26`).
        case automatic
        /// Unix seconds, integer or decimal.
        case unixSeconds
        /// Unix milliseconds (converted to seconds, rounded down).
        case unixMilliseconds
        /// ISO 8601 date or date-time, with an optional `Z` or `±HH:MM` offset (UTC if none).
        case iso8601
    }

    /// The user id.
    public var user: Column
    /// The item id.
    public var item: Column
    /// The rating or weight; every event is 1 without it.
    public var value: Column?
    /// The time of the event; without it the dataset has no timestamps (file order is time order).
    public var timestamp: Column?
    /// How ``timestamp`` is written.
    public var timestampFormat: TimestampFormat
    /// The event type; every event is ``defaultEventType`` without it.
    public var eventType: Column?
    /// The type of events when there is no event-type column.
    public var defaultEventType: EventType
    /// Names in the event-type column to translate (e.g. `["pv": .view, "buy": .purchase]`);
    /// other names are used as they are.
    public var eventTypeNames: [String: EventType]

    /// A mapping; only the user and item columns are required.
    public init(user: Column, item: Column, value: Column? = nil, timestamp: Column? = nil,
                timestampFormat: TimestampFormat = .automatic, eventType: Column? = nil,
                defaultEventType: EventType = .interaction, eventTypeNames: [String: EventType] = [:]) {
        self.user = user
        self.item = item
        self.value = value
        self.timestamp = timestamp
        self.timestampFormat = timestampFormat
        self.eventType = eventType
        self.defaultEventType = defaultEventType
        self.eventTypeNames = eventTypeNames
    }
}

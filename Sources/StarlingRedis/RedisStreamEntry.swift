import StarlingData
import StarlingStream

/// One event read from a Redis stream: the stream entry id and the decoded event.
///
/// An entry's fields have the names of the HTTP API's event fields: `user` and `item` (required),
/// `type` (default `click`), `value` (a number, default 1), `timestamp` (Unix milliseconds,
/// default the entry id's time) and `event_id` (default the stream entry id, so an entry delivered
/// twice is the same event to an idempotent consumer). Other fields are ignored.
public struct RedisStreamEntry: Sendable, Equatable {
    /// The stream entry id (`<milliseconds>-<sequence>`).
    public var id: String
    /// The event the entry's fields describe.
    public var event: LoggedEvent

    public init(id: String, event: LoggedEvent) {
        self.id = id
        self.event = event
    }

    /// The entry's fields for `XADD` (the inverse of decoding).
    public static func fields(of event: LoggedEvent) -> [String] {
        var fields = ["user", event.user, "item", event.item, "type", event.type.rawValue,
                      "value", "\(event.value)", "timestamp", "\(event.timestamp)"]
        if let id = event.eventId { fields += ["event_id", id] }
        return fields
    }

    /// Decodes an entry's field–value pairs; a malformed entry is a dead letter naming its field.
    static func decode(id: String, fields: [(name: [UInt8], value: [UInt8])]) -> Result<RedisStreamEntry, RedisDeadLetter> {
        var values: [String: String] = [:]
        for (rawName, rawValue) in fields {
            let name = String(decoding: rawName, as: UTF8.self)
            guard ["user", "item", "type", "value", "timestamp", "event_id"].contains(name) else { continue }
            guard values[name] == nil else { return .failure(RedisDeadLetter(entryId: id, field: name, reason: "the field appears twice")) }
            guard let text = String(validating: rawValue, as: UTF8.self) else {
                return .failure(RedisDeadLetter(entryId: id, field: name, reason: "not valid UTF-8"))
            }
            values[name] = text
        }
        for name in ["user", "item"] {
            guard let v = values[name] else { return .failure(RedisDeadLetter(entryId: id, field: name, reason: "missing")) }
            guard !v.isEmpty else { return .failure(RedisDeadLetter(entryId: id, field: name, reason: "empty")) }
        }
        let type = values["type"] ?? "click"
        guard !type.isEmpty else { return .failure(RedisDeadLetter(entryId: id, field: "type", reason: "empty")) }
        var value: Float = 1
        if let text = values["value"] {
            guard let v = Float(text), v.isFinite else {
                return .failure(RedisDeadLetter(entryId: id, field: "value", reason: "not a finite number: '\(text.prefix(64))'"))
            }
            value = v
        }
        let timestamp: Int64
        if let text = values["timestamp"] {
            guard let t = Int64(text), t >= 0 else {
                return .failure(RedisDeadLetter(entryId: id, field: "timestamp",
                                                reason: "not Unix milliseconds (a non-negative integer): '\(text.prefix(64))'"))
            }
            timestamp = t
        } else {
            guard let ms = Int64(id.prefix(while: { $0 != "-" })) else {
                return .failure(RedisDeadLetter(entryId: id, field: "timestamp", reason: "missing, and the entry id has no time"))
            }
            timestamp = ms
        }
        let eventId = values["event_id"].flatMap { $0.isEmpty ? nil : $0 } ?? id
        return .success(RedisStreamEntry(id: id, event: LoggedEvent(eventId: eventId, user: values["user"]!, item: values["item"]!,
                                                                    type: EventType(type), value: value, timestamp: timestamp)))
    }
}

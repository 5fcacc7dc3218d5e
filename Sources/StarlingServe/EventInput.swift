import Foundation
import StarlingData
import StarlingStream

/// An event as a client sends it: `type`, `value`, `timestamp` (Unix milliseconds) and `event_id`
/// are optional.
public struct EventInput: Codable, Sendable {
    public var user: String
    public var item: String
    public var type: String?
    public var value: Float?
    public var timestamp: Int64?
    public var eventId: String?

    public init(user: String, item: String, type: String? = nil, value: Float? = nil, timestamp: Int64? = nil, eventId: String? = nil) {
        self.user = user
        self.item = item
        self.type = type
        self.value = value
        self.timestamp = timestamp
        self.eventId = eventId
    }


    /// The longest id (user, item, event id) accepted, in bytes.
    public static let maxIdBytes = 256

    /// The validated event; `index` names the event in error messages.
    func logged(index: Int, now: Int64) throws(ServiceError) -> LoggedEvent {
        let at = "event \(index)"
        guard !user.isEmpty else { throw .badRequest("\(at): field 'user' must not be empty") }
        guard !item.isEmpty else { throw .badRequest("\(at): field 'item' must not be empty") }
        for (name, v) in [("user", user), ("item", item), ("event_id", eventId ?? "")] where v.utf8.count > Self.maxIdBytes {
            throw .badRequest("\(at): field '\(name)' is longer than \(Self.maxIdBytes) bytes")
        }
        let type = self.type ?? "click"
        guard !type.isEmpty, type.utf8.count <= 32, type.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || $0 == 95 }) else {
            throw .badRequest("\(at): field 'type' must be 1–32 lower-case letters or '_', got '\(type)'")
        }
        let value = self.value ?? 1
        guard value.isFinite else { throw .badRequest("\(at): field 'value' must be a finite number") }
        let timestamp = self.timestamp ?? now
        guard timestamp >= 0 && timestamp < 32_503_680_000_000 else {
            throw .badRequest("\(at): field 'timestamp' must be Unix milliseconds between 1970 and 3000, got \(timestamp)")
        }
        return LoggedEvent(eventId: eventId, user: user, item: item, type: EventType(type), value: value, timestamp: timestamp)
    }
}

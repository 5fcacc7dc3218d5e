import Foundation
import StarlingData

/// One streaming feature, declared rather than coded: which entity it describes, which events it
/// counts, how it aggregates them and over which sliding window. For example
/// `{"name": "item_clicks_1h", "entity": "item", "event_type": "click", "aggregation": "count", "window": "1h"}`.
public struct FeatureDefinition: Codable, Sendable, Equatable {
    /// What a feature is keyed by.
    public enum Entity: String, Codable, Sendable, CaseIterable {
        case user, item
        /// Each category of the event's item (an event of an item in two categories counts for both).
        case category
    }

    /// How events in the window are combined.
    public enum Aggregation: String, Codable, Sendable, CaseIterable {
        /// How many events.
        case count
        /// The sum of the events' values (e.g. ratings, amounts).
        case sum
    }

    public var name: String
    public var entity: Entity
    /// Only events of this type (nil: every type but ``EventType/impression``: shown lists are not
    /// behaviour).
    public var eventType: EventType?
    public var aggregation: Aggregation
    /// The sliding window, in milliseconds of event time.
    public var windowMs: Int64

    public init(name: String, entity: Entity, eventType: EventType? = nil, aggregation: Aggregation = .count, windowMs: Int64) {
        self.name = name
        self.entity = entity
        self.eventType = eventType
        self.aggregation = aggregation
        self.windowMs = windowMs
    }

    /// Counts per user, item and category of every event and of clicks, and per item of
    /// impressions (times shown in a recommendation list), over 5 minutes, 1 hour and 1 day.
    public static let standard: [FeatureDefinition] = {
        var out: [FeatureDefinition] = []
        for entity in Entity.allCases {
            for (label, ms) in [("5m", Int64(300_000)), ("1h", 3_600_000), ("1d", 86_400_000)] {
                out.append(FeatureDefinition(name: "\(entity.rawValue)_events_\(label)", entity: entity, windowMs: ms))
                out.append(FeatureDefinition(name: "\(entity.rawValue)_clicks_\(label)", entity: entity, eventType: .click, windowMs: ms))
                if entity == .item {
                    out.append(FeatureDefinition(name: "item_impressions_\(label)", entity: .item, eventType: .impression, windowMs: ms))
                }
            }
        }
        return out
    }()

    /// Whether this feature counts events of `type`.
    public func counts(_ type: EventType) -> Bool {
        eventType.map { $0 == type } ?? (type != .impression)
    }

    /// Which event types any of a set of features counts, answered without walking the features:
    /// a store asks it before creating a key that nothing would count in (e.g. a user's key for
    /// an impression).
    public struct TypeFilter: Sendable {
        /// A feature without a type (it counts every type but impressions).
        let everyBehaviour: Bool
        let types: Set<EventType>

        public init(_ features: some Sequence<FeatureDefinition>) {
            var every = false, types = Set<EventType>()
            for d in features {
                if let t = d.eventType { types.insert(t) } else { every = true }
            }
            everyBehaviour = every
            self.types = types
        }

        /// Whether some feature of the set counts events of `type`.
        public func counts(_ type: EventType) -> Bool { (everyBehaviour && type != .impression) || types.contains(type) }
    }

    private enum CodingKeys: String, CodingKey {
        case name, entity, eventType = "event_type", aggregation, window
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        entity = try c.decode(Entity.self, forKey: .entity)
        eventType = try c.decodeIfPresent(EventType.self, forKey: .eventType)
        aggregation = try c.decodeIfPresent(Aggregation.self, forKey: .aggregation) ?? .count
        let window = try c.decode(String.self, forKey: .window)
        guard let ms = Self.parseWindow(window) else {
            throw DecodingError.dataCorruptedError(forKey: .window, in: c,
                                                   debugDescription: "window '\(window)' is not a duration like 30s, 5m, 1h or 1d")
        }
        windowMs = ms
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(entity, forKey: .entity)
        try c.encodeIfPresent(eventType, forKey: .eventType)
        try c.encode(aggregation, forKey: .aggregation)
        try c.encode(Self.formatWindow(windowMs), forKey: .window)
    }

    /// `"90s"`, `"5m"`, `"1h"`, `"7d"` → milliseconds (nil when malformed or not positive).
    public static func parseWindow(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n * 1000
        case "m": return n * 60_000
        case "h": return n * 3_600_000
        case "d": return n * 86_400_000
        default: return nil
        }
    }

    static func formatWindow(_ ms: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms / 1000)s"
    }

    /// Checks a set of definitions: names non-empty and distinct, windows positive.
    public static func validate(_ definitions: [FeatureDefinition]) throws(FeatureError) {
        var names = Set<String>()
        for d in definitions {
            guard !d.name.isEmpty else { throw .invalidDefinition("a feature needs a name") }
            guard names.insert(d.name).inserted else { throw .invalidDefinition("feature '\(d.name)' is defined twice") }
            guard d.windowMs >= 1000 else { throw .invalidDefinition("feature '\(d.name)': the window must be at least 1 s") }
        }
    }

    /// Definitions from a JSON array; errors name the feature and field at fault.
    public static func load(json: Data) throws(FeatureError) -> [FeatureDefinition] {
        let definitions: [FeatureDefinition]
        do { definitions = try JSONDecoder().decode([FeatureDefinition].self, from: json) } catch let error as DecodingError {
            throw .invalidDefinition(Self.describe(error))
        } catch {
            throw .invalidDefinition("\(error)")
        }
        try validate(definitions)
        return definitions
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "feature \($0)" } ?? "field '\($0.stringValue)'" }.joined(separator: ", ")
        }
        switch error {
        case let .keyNotFound(key, c): return "\(at(c.codingPath + [key])) is required"
        case let .typeMismatch(_, c), let .valueNotFound(_, c): return "\(at(c.codingPath)): wrong type"
        case let .dataCorrupted(c): return c.codingPath.isEmpty ? "malformed JSON" : "\(at(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "malformed feature definitions"
        }
    }
}

/// Errors of the streaming features.
public enum FeatureError: Error, CustomStringConvertible, Equatable {
    case invalidDefinition(String)
    case unknownFeature(String)

    public var description: String {
        switch self {
        case let .invalidDefinition(m): return "feature definitions: \(m)"
        case let .unknownFeature(name): return "no feature named '\(name)'"
        }
    }
}

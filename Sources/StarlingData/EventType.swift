/// What kind of feedback an event records: one of the common kinds below, or any other name
/// (`EventType("add_to_wishlist")`).
public struct EventType: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The type's name.
    public let rawValue: String

    /// The type named `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The type named `name`.
    public init(_ name: String) { rawValue = name }
    /// The type named by a literal.
    public init(stringLiteral value: String) { rawValue = value }

    /// An item was shown in detail (Taobao `pv`, a page view).
    public static let view: EventType = "view"
    /// An item was clicked.
    public static let click: EventType = "click"
    /// An item was put in the cart.
    public static let cart: EventType = "cart"
    /// An item was bought.
    public static let purchase: EventType = "purchase"
    /// An explicit rating; the event's value is the rating.
    public static let rating: EventType = "rating"
    /// A like (thumbs up, a positive implicit signal).
    public static let like: EventType = "like"
    /// An item was marked as a favourite (Taobao `fav`).
    public static let favorite: EventType = "favorite"
    /// A user-applied tag (MovieLens `tags.csv`).
    public static let tag: EventType = "tag"
    /// An item was shown in a recommendation list. The service records these in the streaming
    /// features itself (not in the event log); they are counted only by features that name them.
    public static let impression: EventType = "impression"
    /// An interaction of unrecorded kind: a (user, item) pair from an implicit-feedback file.
    public static let interaction: EventType = "interaction"

    public var description: String { rawValue }
}

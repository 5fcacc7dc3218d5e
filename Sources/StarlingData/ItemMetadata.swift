/// What a dataset says about an item besides its interactions.
public struct ItemMetadata: Sendable, Equatable, Codable {
    /// The display title (MovieLens: `Toy Story (1995)`).
    public var title: String?
    /// Genres or shop categories, in the source's order.
    public var categories: [String]
    /// Free-form tags (MovieLens `tags.csv`), distinct, in order of first appearance.
    public var tags: [String]
    /// When the item appeared (a release date), in Unix seconds.
    public var timestamp: Int64?
    /// Any other field, by the source's column name (`imdbId`, `release_year`, …).
    public var attributes: [String: String]

    /// Metadata with the given fields.
    public init(title: String? = nil, categories: [String] = [], tags: [String] = [], timestamp: Int64? = nil,
                attributes: [String: String] = [:]) {
        self.title = title
        self.categories = categories
        self.tags = tags
        self.timestamp = timestamp
        self.attributes = attributes
    }

    /// No metadata.
    public static let empty = ItemMetadata()
}

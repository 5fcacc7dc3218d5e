/// An item of the catalogue: what the filters and the web pages know about it.
public struct CatalogueItem: Codable, Sendable, Equatable {
    /// The item's external id.
    public var id: String
    public var title: String?
    /// Categories (genres, shop categories); `category=` filters match any of them.
    public var categories: [String]
    public var tags: [String]
    /// Hidden items are never recommended (out of stock, withdrawn).
    public var hidden: Bool
    /// Any other field.
    public var attributes: [String: String]
    /// Creation and last-update times, Unix milliseconds.
    public var created: Int64
    public var updated: Int64

    public init(id: String, title: String? = nil, categories: [String] = [], tags: [String] = [], hidden: Bool = false,
                attributes: [String: String] = [:], created: Int64 = 0, updated: Int64 = 0) {
        self.id = id
        self.title = title
        self.categories = categories
        self.tags = tags
        self.hidden = hidden
        self.attributes = attributes
        self.created = created
        self.updated = updated
    }
}

/// A change to an item: the fields present are replaced.
public struct CatalogueItemPatch: Codable, Sendable, Equatable {
    public var title: String?
    public var categories: [String]?
    public var tags: [String]?
    public var hidden: Bool?
    /// Merged into the item's attributes: a string sets a key, null removes it (JSON merge patch).
    public var attributes: [String: String?]?

    public init(title: String? = nil, categories: [String]? = nil, tags: [String]? = nil, hidden: Bool? = nil,
                attributes: [String: String?]? = nil) {
        self.title = title
        self.categories = categories
        self.tags = tags
        self.hidden = hidden
        self.attributes = attributes
    }
}

/// A user of the catalogue: free-form attributes (labels) and times.
public struct CatalogueUser: Codable, Sendable, Equatable {
    public var id: String
    public var attributes: [String: String]
    /// Creation and last-update times, Unix milliseconds.
    public var created: Int64
    public var updated: Int64

    public init(id: String, attributes: [String: String] = [:], created: Int64 = 0, updated: Int64 = 0) {
        self.id = id
        self.attributes = attributes
        self.created = created
        self.updated = updated
    }
}

/// One page of a listing, and the cursor that fetches the next one (`nil` on the last page).
public struct CataloguePage<Element: Codable & Sendable>: Codable, Sendable {
    public var items: [Element]
    public var nextCursor: String?
}

extension Dictionary where Key == String, Value == String {
    /// Applies a JSON-merge-patch of string attributes: a string sets its key, nil removes it.
    public mutating func merge(patch: [String: String?]) {
        for (key, value) in patch { self[key] = value }
    }
}

import StarlingData

/// The engine's items: a dense id per external id (ids never change once given), with what the
/// filters need. A value type: the engine swaps whole snapshots, so readers never wait on writers.
struct ItemTable: Sendable {
    private(set) var ids = IdVocabulary()
    private(set) var hidden: [Bool] = []
    private(set) var categories: [[String]] = []
    private(set) var titles: [String?] = []
    /// Whether the item is in the catalogue (items seen only in the log or a model are not).
    private(set) var catalogued: [Bool] = []

    var count: Int { ids.count }

    func index(of id: String) -> Int32? { ids.index(of: id) }

    /// The dense id of `id`, adding it (uncatalogued, visible) if new.
    mutating func intern(_ id: String) -> Int32 {
        if let i = ids.index(of: id) { return i }
        let i = ids.insert(id)
        hidden.append(false)
        categories.append([])
        titles.append(nil)
        catalogued.append(false)
        return i
    }

    /// Records `item`'s metadata.
    mutating func apply(_ item: CatalogueItem) {
        let i = Int(intern(item.id))
        hidden[i] = item.hidden
        categories[i] = item.categories
        titles[i] = item.title
        catalogued[i] = true
    }

    /// Marks item `id` deleted from the catalogue: it is hidden from recommendations from now on.
    mutating func remove(_ id: String) {
        guard let i = ids.index(of: id) else { return }
        hidden[Int(i)] = true
        catalogued[Int(i)] = false
    }

    /// Whether item `i` may be recommended under `category`.
    @inline(__always)
    func isEligible(_ i: Int32, category: String?) -> Bool {
        let k = Int(i)
        if hidden[k] { return false }
        if let category { return categories[k].contains(category) }
        return true
    }
}

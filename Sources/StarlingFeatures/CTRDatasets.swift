import StarlingData
import StarlingTensor

/// Click-prediction examples from the datasets Starling ships readers for, with the feature
/// declarations used to train on them.
public enum CTRDatasets {
    /// Criteo rows: 13 integer features `I1…I13` (numeric, NaN when missing) and 26 hashed
    /// categorical features `C1…C26` (strings, `nil` when missing), label = click.
    public static func criteo(_ rows: CTRTable, name: String) -> LabeledFeatureTable {
        var table = RawFeatureTable(rowCount: rows.rowCount)
        for (f, feature) in rows.denseNames.enumerated() {
            // Sizes match by construction, so this cannot throw.
            try! table.set(feature, .numeric((0..<rows.rowCount).map { r in rows.dense(row: r, feature: f).map(Double.init) ?? .nan }))
        }
        for (f, feature) in rows.categoricalNames.enumerated() {
            try! table.set(feature, .categorical((0..<rows.rowCount).map { r in
                rows.categorical(row: r, field: f) == 0 ? nil : rows.categoricalValue(row: r, field: f)
            }))
        }
        return LabeledFeatureTable(name: name, table: table, labels: rows.labels)
    }

    /// Criteo features: the integer features log-transformed and standardised (each a weighted
    /// field), the categorical ones through a vocabulary of values seen at least `minCount` times
    /// in training (rarer values share the unknown row).
    public static func criteoFeatures(minCount: Int = 2) -> [FeatureSpec] {
        (1...Criteo.denseCount).map { .numeric("I\($0)", .logStandardize) }
            + (1...Criteo.categoricalCount).map { .categorical("C\($0)", minCount: minCount) }
    }

    /// MovieLens ratings as click prediction: each rating is an example, positive when the rating
    /// is at least `positiveRating` (4 by default). Columns: `user`, `item`, the user's `age`,
    /// `gender`, `occupation` and `zip` (first three digits), the item's `genres` and release
    /// `year`, and `history`: the items the user rated before this one (by timestamp, ties in
    /// file order), most recent last, at most `historyLength` of them. The history holds items
    /// only, never ratings, so it leaks no label.
    public static func movieLens(_ dataset: Dataset, positiveRating: Float = 4, historyLength: Int = 20) -> LabeledFeatureTable {
        let events = dataset.events
        let n = events.count
        var users = [String?](repeating: nil, count: n), items = [String?](repeating: nil, count: n)
        var ages = [Double](repeating: .nan, count: n), genders = [String?](repeating: nil, count: n)
        var occupations = [String?](repeating: nil, count: n), zips = [String?](repeating: nil, count: n)
        var genres = [[String]](repeating: [], count: n), years = [Double](repeating: .nan, count: n)
        var history = [[String]](repeating: [], count: n)
        var labels = [Float](repeating: 0, count: n)
        let itemGenres = dataset.itemMetadata.map(\.categories)
        let itemYears = dataset.itemMetadata.map { m in m.timestamp.map { Double(1970 + $0 / 31_556_952) } ?? .nan }
        var recent = [[String]](repeating: [], count: dataset.userCount)
        for k in events.timeOrder() {
            let u = Int(events.users[k]), i = Int(events.items[k])
            let itemID = dataset.items[Int32(i)]
            users[k] = dataset.users[Int32(u)]
            items[k] = itemID
            let attributes = u < dataset.userAttributes.count ? dataset.userAttributes[u] : [:]
            ages[k] = attributes["age"].flatMap(Double.init) ?? .nan
            genders[k] = attributes["gender"]
            occupations[k] = attributes["occupation"]
            zips[k] = attributes["zip_code"].map { String($0.prefix(3)) }
            genres[k] = i < itemGenres.count ? itemGenres[i] : []
            years[k] = i < itemYears.count ? itemYears[i] : .nan
            history[k] = recent[u]
            recent[u].append(itemID)
            if recent[u].count > historyLength { recent[u].removeFirst(recent[u].count - historyLength) }
            labels[k] = events.values[k] >= positiveRating ? 1 : 0
        }
        var table = RawFeatureTable(rowCount: n)
        try! table.set("user", .categorical(users))
        try! table.set("item", .categorical(items))
        try! table.set("age", .numeric(ages))
        try! table.set("gender", .categorical(genders))
        try! table.set("occupation", .categorical(occupations))
        try! table.set("zip", .categorical(zips))
        try! table.set("genres", .multiValued(genres))
        try! table.set("year", .numeric(years))
        try! table.set("history", .multiValued(history))
        return LabeledFeatureTable(name: "\(dataset.name) rating≥\(Int(positiveRating))", table: table, labels: labels)
    }

    /// MovieLens features: ids and user attributes as vocabularies, age and year bucketised at
    /// training quantiles, genres and history as mean embedding-bags, and two crosses for the
    /// wide part (occupation × item, gender × item).
    public static func movieLensFeatures() -> [FeatureSpec] {
        [
            .categorical("user"), .categorical("item"), .numeric("age", .quantileBuckets(count: 8)),
            .categorical("gender"), .categorical("occupation"), .categorical("zip", minCount: 2),
            .multiValued("genres", maxLength: 6), .numeric("year", .quantileBuckets(count: 10)),
            .multiValued("history", maxLength: 20),
            .cross(["occupation", "item"], buckets: 20_000), .cross(["gender", "item"], buckets: 5_000),
        ]
    }
}

extension CTRDatasets {
    /// Taobao UserBehavior as click + purchase examples over an impression space.
    ///
    /// The log has no impressions, so they are built: every (user, item) pair with any behaviour
    /// is a clicked impression (`pv`, or `cart`/`fav`/`buy`, which imply a view), purchased when
    /// the pair has a `buy`; for each clicked pair `negatives` items the user never touched are
    /// drawn uniformly from the catalogue (seeded) as unclicked impressions at the same time.
    /// Rows are in time order of the pair's first event (negatives right after their positive).
    ///
    /// Columns: `user`, `item`, `category`, the user's `views_before`, `carts_before`,
    /// `favs_before` and `buys_before` (counts of their events strictly before the pair's first
    /// event: cart and fav enter as signals about the user, never about the row's own pair), and
    /// `history` / `history_categories`: the last `historyLength` items (and their categories)
    /// the user viewed before. Tasks: `click`, `purchase`.
    public static func taobao(_ dataset: Dataset, negatives: Int = 2, historyLength: Int = 10, seed: UInt64 = 42) -> LabeledFeatureTable {
        let events = dataset.events
        let categoryOf = dataset.itemMetadata.map { $0.categories.first }
        struct Pair { var first: Int64; var order: Int; var bought: Bool }
        var pairs: [Int64: Pair] = [:]
        var touched: [Int32: Set<Int32>] = [:]
        let order = events.timeOrder()
        for (rank, k) in order.enumerated() {
            let key = Int64(events.users[k]) << 32 | Int64(events.items[k])
            let bought = events.type(at: k) == .purchase
            if var p = pairs[key] { p.bought = p.bought || bought; pairs[key] = p } else {
                pairs[key] = Pair(first: events.timestamps?[k] ?? 0, order: rank, bought: bought)
            }
            touched[events.users[k], default: []].insert(events.items[k])
        }
        // Walk events in time order, emitting each pair's rows at its first event, with the
        // user's state as it was just before.
        var users: [String?] = [], items: [String?] = [], categories: [String?] = []
        var views: [Double] = [], carts: [Double] = [], favs: [Double] = [], buys: [Double] = []
        var history: [[String]] = [], historyCategories: [[String]] = []
        var clicks: [Float] = [], purchases: [Float] = []
        var counts: [Int32: (views: Int, carts: Int, favs: Int, buys: Int)] = [:]
        var recent: [Int32: [Int32]] = [:]
        var rng = RandomGenerator(seed: seed)
        func emit(user: Int32, item: Int32, click: Bool, bought: Bool) {
            let c = counts[user] ?? (0, 0, 0, 0)
            users.append(dataset.users[user]); items.append(dataset.items[item])
            categories.append(Int(item) < categoryOf.count ? categoryOf[Int(item)] : nil)
            views.append(Double(c.views)); carts.append(Double(c.carts)); favs.append(Double(c.favs)); buys.append(Double(c.buys))
            let h = recent[user] ?? []
            history.append(h.map { dataset.items[$0] })
            historyCategories.append(h.compactMap { Int($0) < categoryOf.count ? categoryOf[Int($0)] : nil })
            clicks.append(click ? 1 : 0); purchases.append(bought ? 1 : 0)
        }
        for (rank, k) in order.enumerated() {
            let u = events.users[k], i = events.items[k]
            let key = Int64(u) << 32 | Int64(i)
            if let p = pairs[key], p.order == rank {
                emit(user: u, item: i, click: true, bought: p.bought)
                let mine = touched[u] ?? []
                var drawn = 0
                while drawn < negatives && mine.count < dataset.itemCount {
                    let j = Int32(rng.nextInt(below: dataset.itemCount))
                    if mine.contains(j) { continue }
                    emit(user: u, item: j, click: false, bought: false)
                    drawn += 1
                }
            }
            var c = counts[u] ?? (0, 0, 0, 0)
            switch events.type(at: k) {
            case .view:
                c.views += 1
                var h = recent[u] ?? []
                h.append(i)
                if h.count > historyLength { h.removeFirst(h.count - historyLength) }
                recent[u] = h
            case .cart: c.carts += 1
            case .favorite: c.favs += 1
            case .purchase: c.buys += 1
            default: break
            }
            counts[u] = c
        }
        var table = RawFeatureTable(rowCount: users.count)
        try! table.set("user", .categorical(users))
        try! table.set("item", .categorical(items))
        try! table.set("category", .categorical(categories))
        try! table.set("views_before", .numeric(views))
        try! table.set("carts_before", .numeric(carts))
        try! table.set("favs_before", .numeric(favs))
        try! table.set("buys_before", .numeric(buys))
        try! table.set("history", .multiValued(history))
        try! table.set("history_categories", .multiValued(historyCategories))
        return LabeledFeatureTable(name: "\(dataset.name) impressions (\(negatives) sampled per click)", table: table,
                                   tasks: ["click", "purchase"], labels: [clicks, purchases])
    }

    /// Taobao features: ids through vocabularies (values seen twice or more: most users and
    /// items of a two-hour sample appear once), the behaviour counts bucketised, histories as
    /// mean embedding-bags.
    public static func taobaoFeatures() -> [FeatureSpec] {
        [
            .categorical("user", minCount: 2), .categorical("item", minCount: 2), .categorical("category"),
            .numeric("views_before", .buckets(boundaries: [1, 2, 3, 5, 8, 13, 21])),
            .numeric("carts_before", .buckets(boundaries: [1, 2, 4])),
            .numeric("favs_before", .buckets(boundaries: [1, 2, 4])),
            .numeric("buys_before", .buckets(boundaries: [1, 2])),
            .multiValued("history", minCount: 2, maxLength: 10), .multiValued("history_categories", maxLength: 10),
        ]
    }
}

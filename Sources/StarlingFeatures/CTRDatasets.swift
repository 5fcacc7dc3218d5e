import StarlingData

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

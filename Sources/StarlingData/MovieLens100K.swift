import Foundation

/// MovieLens 100K (GroupLens, 1998) in its published files:
///
/// - `u.data`: TAB-separated `user item rating timestamp` (100,000 ratings 1…5, Unix seconds);
/// - `u.item`: `|`-separated `id|title|release date|video release date|IMDb URL|` then 19 genre
///   flags (0/1) in the order of `u.genre`; Latin-1;
/// - `u.user`: `id|age|gender|occupation|zip code`;
/// - `u.genre` (optional): `name|flag index`, for the genre names.
///
/// Events are ``EventType/rating`` with the rating as value. Items carry the title, the genres
/// as categories, the release date as timestamp and `imdb_url` (and `video_release_date` when
/// given) as attributes; users carry `age`, `gender`, `occupation` and `zip_code`.
public enum MovieLens100K {
    /// The genre names of `u.genre`, in flag order.
    public static let genres = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                                "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                                "Romance", "Sci-Fi", "Thriller", "War", "Western"]

    /// Reads `u.item`, `u.user` (both optional) and `u.data` from `directory`.
    public static func load(directory: URL, options: ReadOptions = ReadOptions(), name: String = "ml-100k") throws(DataError) -> Dataset {
        var b = DatasetBuilder(hasTimestamps: true)
        let fm = FileManager.default
        var genreNames = genres
        let genreURL = directory.appendingPathComponent("u.genre")
        if fm.fileExists(atPath: genreURL.path) {
            var named: [(Int, String)] = []
            try DelimitedText(contentsOf: genreURL, encoding: options.encoding ?? .latin1)
                .forEachLine(.bytes([124], mergeRuns: false)) { line throws(DataError) in
                    named.append((try line.int(1, name: "genre index"), try line.string(0)))
                }
            if !named.isEmpty {
                genreNames = Array(repeating: "", count: (named.map(\.0).max() ?? 0) + 1)
                for (k, n) in named where k >= 0 { genreNames[k] = n }
            }
        }

        let itemURL = directory.appendingPathComponent("u.item")
        if fm.fileExists(atPath: itemURL.path) {
            let text = try DelimitedText(contentsOf: itemURL, encoding: options.encoding ?? .latin1)
            var report = ReadReport(path: itemURL.path)
            try text.forEachLine(.bytes([124], mergeRuns: false), options: options, report: &report) { line throws(DataError) in
                try line.require(fields: 5 + genreNames.count)
                let key = try IdInterner.intKey(line, 0, name: "movie id")
                var categories: [String] = []
                for g in 0..<genreNames.count {
                    let flag = try line.int(5 + g, name: "genre flag \(genreNames[g])")
                    guard flag == 0 || flag == 1 else { throw line.malformed("genre flag \(genreNames[g]) is \(flag), not 0 or 1") }
                    if flag == 1 { categories.append(genreNames[g]) }
                }
                let date = try line.string(2)
                let released = CivilTime.movieLensDate(date)
                guard date.isEmpty || released != nil else { throw line.malformed("release date '\(date)' is not like 01-Jan-1995") }
                var attributes: [String: String] = [:]
                if !line.isEmpty(4) { attributes["imdb_url"] = try line.string(4) }
                if !line.isEmpty(3) { attributes["video_release_date"] = try line.string(3) }
                let index = b.item(key)
                b.itemMetadata[Int(index)] = ItemMetadata(title: try line.string(1), categories: categories,
                                                          timestamp: released, attributes: attributes)
            }
            b.reports.append(report)
        }

        let userURL = directory.appendingPathComponent("u.user")
        if fm.fileExists(atPath: userURL.path) {
            let text = try DelimitedText(contentsOf: userURL, encoding: options.encoding ?? .latin1)
            var report = ReadReport(path: userURL.path)
            try text.forEachLine(.bytes([124], mergeRuns: false), options: options, report: &report) { line throws(DataError) in
                try line.require(fields: 5)
                let key = try IdInterner.intKey(line, 0, name: "user id")
                _ = try line.int(1, name: "age")
                let attributes = ["age": try line.string(1), "gender": try line.string(2),
                                  "occupation": try line.string(3), "zip_code": try line.string(4)]
                b.userAttributes[Int(b.user(key))] = attributes
            }
            b.reports.append(report)
        }

        let dataURL = directory.appendingPathComponent("u.data")
        let text = try DelimitedText(contentsOf: dataURL, encoding: options.encoding ?? .latin1)
        var report = ReadReport(path: dataURL.path)
        b.events.reserveCapacity(text.approximateLineCount)
        let rating = b.events.code(for: .rating)!
        try text.forEachLine(.tab, options: options, report: &report) { line throws(DataError) in
            try line.require(fields: 4)
            let u = try IdInterner.intKey(line, 0, name: "user id")
            let i = try IdInterner.intKey(line, 1, name: "item id")
            let r = try line.float(2, name: "rating")
            let t = try line.timestamp(3, name: "timestamp")
            b.events.append(user: b.user(u), item: b.item(i), typeCode: rating, value: r, timestamp: t)
        }
        b.reports.append(report)
        return b.build(name: name, order: options.idOrder)
    }

    /// The copy under `root/ml-100k/raw` (see ``DataRoot``).
    public static func load(root: URL, options: ReadOptions = ReadOptions()) throws(DataError) -> Dataset {
        try load(directory: try DataRoot.dataset("ml-100k", in: root).appendingPathComponent("raw"), options: options)
    }
}

import Foundation

/// MovieLens "latest" and its relatives (ml-latest-small, ml-20m, ml-25m, ml-32m): UTF-8 CSV
/// files with a header line and RFC 4180 quoting (titles such as `"American President, The (1995)"`):
///
/// - `ratings.csv`: `userId,movieId,rating,timestamp` (half-star ratings, Unix seconds);
/// - `movies.csv`: `movieId,title,genres` (genres `|`-separated, `(no genres listed)` for none);
/// - `tags.csv` (optional): `userId,movieId,tag,timestamp`, gathered into each movie's tags;
/// - `links.csv` (optional): `movieId,imdbId,tmdbId`, kept as item attributes.
///
/// Columns are found by their header names, so extra or reordered columns are fine.
public enum MovieLensLatest {
    /// Reads `ratings.csv` and, when present, `movies.csv`, `tags.csv` and `links.csv` from `directory`.
    public static func load(directory: URL, options: ReadOptions = ReadOptions(), name: String = "ml-latest") throws(DataError) -> Dataset {
        var b = DatasetBuilder(hasTimestamps: true)
        let fm = FileManager.default
        let moviesURL = directory.appendingPathComponent("movies.csv")
        if fm.fileExists(atPath: moviesURL.path) { try readMovies(moviesURL, into: &b, options: options) }
        let linksURL = directory.appendingPathComponent("links.csv")
        if fm.fileExists(atPath: linksURL.path) { try readLinks(linksURL, into: &b, options: options) }

        let ratingsURL = directory.appendingPathComponent("ratings.csv")
        let text = try DelimitedText(contentsOf: ratingsURL, encoding: options.encoding ?? .utf8)
        let c = try columns(of: text, named: ["userId", "movieId", "rating", "timestamp"])
        var report = ReadReport(path: ratingsURL.path)
        b.events.reserveCapacity(text.approximateLineCount)
        let rating = b.events.code(for: .rating)!
        try text.forEachLine(.comma, skippingHeader: true, options: options, report: &report) { line throws(DataError) in
            let u = try IdInterner.intKey(line, c[0], name: "userId")
            let i = try IdInterner.intKey(line, c[1], name: "movieId")
            let r = try line.float(c[2], name: "rating")
            let t = try line.timestamp(c[3], name: "timestamp")
            b.events.append(user: b.user(u), item: b.item(i), typeCode: rating, value: r, timestamp: t)
        }
        b.reports.append(report)

        let tagsURL = directory.appendingPathComponent("tags.csv")
        if fm.fileExists(atPath: tagsURL.path) {
            let tags = try DelimitedText(contentsOf: tagsURL, encoding: options.encoding ?? .utf8)
            let t = try columns(of: tags, named: ["movieId", "tag"])
            var tagReport = ReadReport(path: tagsURL.path)
            var seen = Set<String>()
            try tags.forEachLine(.comma, skippingHeader: true, options: options, report: &tagReport) { line throws(DataError) in
                let i = try IdInterner.intKey(line, t[0], name: "movieId")
                let tag = try line.string(t[1])
                let index = b.item(i)
                if !tag.isEmpty && seen.insert("\(index)\u{0}\(tag)").inserted { b.itemMetadata[Int(index)].tags.append(tag) }
            }
            b.reports.append(tagReport)
        }
        return b.build(name: name, order: options.idOrder)
    }

    /// Reads only a `movies.csv` (for example SparrowRecSys' sample): a dataset of items and no
    /// events.
    public static func loadMovies(_ url: URL, options: ReadOptions = ReadOptions(), name: String = "movies") throws(DataError) -> Dataset {
        var b = DatasetBuilder(hasTimestamps: true)
        try readMovies(url, into: &b, options: options)
        return b.build(name: name, order: options.idOrder)
    }

    /// The indices of the header columns `names` (an error naming the file if one is missing).
    static func columns(of text: DelimitedText, named names: [String]) throws(DataError) -> [Int] {
        guard let header = try text.header(.comma) else {
            throw .malformedLine(path: text.path, line: 1, reason: "empty file; expected a header with \(names.joined(separator: ","))")
        }
        var out: [Int] = []
        for n in names {
            guard let k = header.firstIndex(of: n) else {
                throw .malformedLine(path: text.path, line: 1, reason: "the header has no column '\(n)' (found \(header.joined(separator: ",")))")
            }
            out.append(k)
        }
        return out
    }

    static func readMovies(_ url: URL, into b: inout DatasetBuilder, options: ReadOptions) throws(DataError) {
        let text = try DelimitedText(contentsOf: url, encoding: options.encoding ?? .utf8)
        let c = try columns(of: text, named: ["movieId", "title", "genres"])
        var report = ReadReport(path: url.path)
        try text.forEachLine(.comma, skippingHeader: true, options: options, report: &report) { line throws(DataError) in
            let key = try IdInterner.intKey(line, c[0], name: "movieId")
            let title = try line.string(c[1])
            let genres = try line.string(c[2])
            var attributes: [String: String] = [:]
            if let year = CivilTime.yearInTitle(title) { attributes["year"] = String(year) }
            let index = b.item(key)
            b.itemMetadata[Int(index)] = ItemMetadata(
                title: title,
                categories: genres.isEmpty || genres == "(no genres listed)" ? [] : genres.split(separator: "|").map(String.init),
                tags: b.itemMetadata[Int(index)].tags, attributes: b.itemMetadata[Int(index)].attributes.merging(attributes) { $1 })
        }
        b.reports.append(report)
    }

    static func readLinks(_ url: URL, into b: inout DatasetBuilder, options: ReadOptions) throws(DataError) {
        let text = try DelimitedText(contentsOf: url, encoding: options.encoding ?? .utf8)
        let c = try columns(of: text, named: ["movieId", "imdbId", "tmdbId"])
        var report = ReadReport(path: url.path)
        try text.forEachLine(.comma, skippingHeader: true, options: options, report: &report) { line throws(DataError) in
            let key = try IdInterner.intKey(line, c[0], name: "movieId")
            let imdb = line.optionalString(c[1]) ?? "", tmdb = line.optionalString(c[2]) ?? ""
            let index = b.item(key)
            if !imdb.isEmpty { b.itemMetadata[Int(index)].attributes["imdbId"] = imdb }
            if !tmdb.isEmpty { b.itemMetadata[Int(index)].attributes["tmdbId"] = tmdb }
        }
        b.reports.append(report)
    }
}

import Foundation

/// MovieLens 1M (GroupLens, 2003) in its published `::`-separated, Latin-1 files:
///
/// - `movies.dat`: `MovieID::Title::Genres` (genres `|`-separated);
/// - `users.dat`: `UserID::Gender::Age::Occupation::Zip-code` (age and occupation are codes);
/// - `ratings.dat`: `UserID::MovieID::Rating::Timestamp` — or, when it is absent,
///   `interactions_implicit.dat`: `UserID::MovieID` pairs (no ratings, no timestamps; the
///   offline copy has only this one).
///
/// Ratings become ``EventType/rating`` events with the rating as value; the pairs file gives
/// ``EventType/interaction`` events of value 1 without timestamps. Every movie of `movies.dat`
/// is an item, rated or not (3,883; 3,706 have ratings): use ``Dataset/compacted()`` to keep only
/// those with events.
public enum MovieLens1M {
    /// Reads the files in `directory`; `movies.dat` and `users.dat` are optional.
    public static func load(directory: URL, options: ReadOptions = ReadOptions(), name: String = "ml-1m") throws(DataError) -> Dataset {
        let fm = FileManager.default
        let encoding = options.encoding ?? .latin1
        let ratingsURL = directory.appendingPathComponent("ratings.dat")
        let pairsURL = directory.appendingPathComponent("interactions_implicit.dat")
        let hasRatings = fm.fileExists(atPath: ratingsURL.path)
        guard hasRatings || fm.fileExists(atPath: pairsURL.path) else {
            throw .missingFile(path: ratingsURL.path, hint: "neither ratings.dat nor interactions_implicit.dat is in \(directory.path)")
        }
        var b = DatasetBuilder(hasTimestamps: hasRatings)
        let separator = DelimitedText.Separator.sequence([58, 58])

        let moviesURL = directory.appendingPathComponent("movies.dat")
        if fm.fileExists(atPath: moviesURL.path) {
            var report = ReadReport(path: moviesURL.path)
            try DelimitedText(contentsOf: moviesURL, encoding: encoding).forEachLine(separator, options: options, report: &report) { line throws(DataError) in
                guard line.count == 3 else { throw line.malformed("expected 3 fields (MovieID::Title::Genres), found \(line.count)") }
                let key = try IdInterner.intKey(line, 0, name: "movie id")
                let title = try line.string(1)
                let genres = try line.string(2)
                var attributes: [String: String] = [:]
                if let year = CivilTime.yearInTitle(title) { attributes["year"] = String(year) }
                let index = b.item(key)
                b.itemMetadata[Int(index)] = ItemMetadata(
                    title: title, categories: genres.isEmpty ? [] : genres.split(separator: "|").map(String.init),
                    attributes: attributes)
            }
            b.reports.append(report)
        }

        let usersURL = directory.appendingPathComponent("users.dat")
        if fm.fileExists(atPath: usersURL.path) {
            var report = ReadReport(path: usersURL.path)
            try DelimitedText(contentsOf: usersURL, encoding: encoding).forEachLine(separator, options: options, report: &report) { line throws(DataError) in
                guard line.count == 5 else { throw line.malformed("expected 5 fields (UserID::Gender::Age::Occupation::Zip-code), found \(line.count)") }
                let key = try IdInterner.intKey(line, 0, name: "user id")
                _ = try line.int(2, name: "age")
                _ = try line.int(3, name: "occupation")
                let attributes = ["gender": try line.string(1), "age": try line.string(2),
                                  "occupation": try line.string(3), "zip_code": try line.string(4)]
                b.userAttributes[Int(b.user(key))] = attributes
            }
            b.reports.append(report)
        }

        let eventsURL = hasRatings ? ratingsURL : pairsURL
        let text = try DelimitedText(contentsOf: eventsURL, encoding: encoding)
        var report = ReadReport(path: eventsURL.path)
        b.events.reserveCapacity(text.approximateLineCount)
        let code = b.events.code(for: hasRatings ? .rating : .interaction)!
        try text.forEachLine(separator, options: options, report: &report) { line throws(DataError) in
            let expected = hasRatings ? 4 : 2
            guard line.count == expected else {
                throw line.malformed(hasRatings ? "expected 4 fields (UserID::MovieID::Rating::Timestamp), found \(line.count)"
                                                : "expected 2 fields (UserID::MovieID), found \(line.count)")
            }
            let u = try IdInterner.intKey(line, 0, name: "user id")
            let i = try IdInterner.intKey(line, 1, name: "movie id")
            var value: Float = 1, time: Int64 = 0
            if hasRatings {
                value = try line.float(2, name: "rating")
                time = try line.timestamp(3, name: "timestamp")
            }
            b.events.append(user: b.user(u), item: b.item(i), typeCode: code, value: value, timestamp: time)
        }
        b.reports.append(report)
        return b.build(name: name, order: options.idOrder)
    }

    /// The copy under `root/ml-1m` (see ``DataRoot``).
    public static func load(root: URL, options: ReadOptions = ReadOptions()) throws(DataError) -> Dataset {
        try load(directory: try DataRoot.dataset("ml-1m", in: root), options: options)
    }
}

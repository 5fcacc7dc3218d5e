import Foundation

/// RecBole's atomic files (`<name>.inter`, `<name>.item`, `<name>.user`): UTF-8, TAB-separated,
/// with a typed header such as `user_id:token	item_id:token	rating:float	timestamp:float`.
/// Types are `token` (an id or a category), `token_seq` (space-separated tokens), `float` and
/// `float_seq`.
///
/// The `.inter` file gives the events (``EventType/rating`` with the rating as value when there is
/// a rating column, else ``EventType/interaction`` of value 1; timestamps when there is a timestamp
/// column). The `.item` file gives titles (``Fields/titles``), categories (``Fields/categories``,
/// split into tokens) and every other column as an attribute; the `.user` file gives user
/// attributes. Both are optional.
public enum RecBoleAtomicFiles {
    /// The column names that carry meaning (RecBole's `USER_ID_FIELD`, `ITEM_ID_FIELD`, …).
    public struct Fields: Sendable {
        /// The user id column (`USER_ID_FIELD`).
        public var user: String
        /// The item id column (`ITEM_ID_FIELD`).
        public var item: String
        /// The rating column (`RATING_FIELD`); without it events are implicit.
        public var rating: String
        /// The timestamp column (`TIME_FIELD`).
        public var timestamp: String
        /// Columns of `.item` used as the title, first found wins.
        public var titles: [String]
        /// Columns of `.item` used as categories, first found wins.
        public var categories: [String]

        /// RecBole's default field names.
        public init(user: String = "user_id", item: String = "item_id", rating: String = "rating",
                    timestamp: String = "timestamp", titles: [String] = ["movie_title", "title"],
                    categories: [String] = ["class", "categories", "genre", "genres"]) {
            self.user = user
            self.item = item
            self.rating = rating
            self.timestamp = timestamp
            self.titles = titles
            self.categories = categories
        }
    }

    /// A column of a typed header.
    public struct Column: Sendable, Equatable {
        /// A RecBole field type.
        public enum Kind: String, Sendable { case token, tokenSequence = "token_seq", float, floatSequence = "float_seq" }
        /// The field name.
        public let name: String
        /// The field type.
        public let kind: Kind
    }

    /// Parses a header line's columns (`name:type`), naming the file on error.
    public static func header(of text: DelimitedText) throws(DataError) -> [Column] {
        guard let names = try text.header(.tab) else { throw .malformedLine(path: text.path, line: 1, reason: "empty file; expected a typed header") }
        var columns: [Column] = []
        for (k, field) in names.enumerated() {
            guard let colon = field.lastIndex(of: ":"), let kind = Column.Kind(rawValue: String(field[field.index(after: colon)...])) else {
                throw .malformedLine(path: text.path, line: 1,
                                     reason: "header field \(k + 1) '\(field)' is not name:type with type token, token_seq, float or float_seq")
            }
            columns.append(Column(name: String(field[..<colon]), kind: kind))
        }
        return columns
    }

    /// Reads `<name>.inter` and, when present, `<name>.item` and `<name>.user` from `directory`.
    public static func load(directory: URL, name: String, options: ReadOptions = ReadOptions(),
                            fields: Fields = Fields()) throws(DataError) -> Dataset {
        let fm = FileManager.default
        let interURL = directory.appendingPathComponent("\(name).inter")
        let inter = try DelimitedText(contentsOf: interURL, encoding: options.encoding ?? .utf8)
        let columns = try header(of: inter)
        func find(_ n: String) -> Int? { columns.firstIndex { $0.name == n } }
        guard let userColumn = find(fields.user), let itemColumn = find(fields.item) else {
            throw .malformedLine(path: interURL.path, line: 1,
                                 reason: "the header has no '\(fields.user)' or '\(fields.item)' column (found \(columns.map(\.name).joined(separator: ", ")))")
        }
        let ratingColumn = find(fields.rating), timeColumn = find(fields.timestamp)
        var b = DatasetBuilder(hasTimestamps: timeColumn != nil)

        let itemURL = directory.appendingPathComponent("\(name).item")
        if fm.fileExists(atPath: itemURL.path) {
            let text = try DelimitedText(contentsOf: itemURL, encoding: options.encoding ?? .utf8)
            let itemColumns = try header(of: text)
            guard let idColumn = itemColumns.firstIndex(where: { $0.name == fields.item }) else {
                throw .malformedLine(path: itemURL.path, line: 1, reason: "the header has no '\(fields.item)' column")
            }
            let titleColumn = fields.titles.lazy.compactMap { t in itemColumns.firstIndex { $0.name == t } }.first
            let categoryColumn = fields.categories.lazy.compactMap { t in itemColumns.firstIndex { $0.name == t } }.first
            var report = ReadReport(path: itemURL.path)
            try text.forEachLine(.tab, skippingHeader: true, options: options, report: &report) { line throws(DataError) in
                let key = try IdInterner.key(line, idColumn, name: fields.item)
                var metadata = ItemMetadata()
                for (k, column) in itemColumns.enumerated() where k != idColumn {
                    guard let value = line.optionalString(k), !value.isEmpty else { continue }
                    if k == titleColumn { metadata.title = value } else if k == categoryColumn {
                        metadata.categories = value.split(separator: " ").map(String.init)
                    } else { metadata.attributes[column.name] = value }
                }
                b.itemMetadata[Int(b.item(key))] = metadata
            }
            b.reports.append(report)
        }

        let userURL = directory.appendingPathComponent("\(name).user")
        if fm.fileExists(atPath: userURL.path) {
            let text = try DelimitedText(contentsOf: userURL, encoding: options.encoding ?? .utf8)
            let userColumns = try header(of: text)
            guard let idColumn = userColumns.firstIndex(where: { $0.name == fields.user }) else {
                throw .malformedLine(path: userURL.path, line: 1, reason: "the header has no '\(fields.user)' column")
            }
            var report = ReadReport(path: userURL.path)
            try text.forEachLine(.tab, skippingHeader: true, options: options, report: &report) { line throws(DataError) in
                let key = try IdInterner.key(line, idColumn, name: fields.user)
                var attributes: [String: String] = [:]
                for (k, column) in userColumns.enumerated() where k != idColumn {
                    if let value = line.optionalString(k), !value.isEmpty { attributes[column.name] = value }
                }
                b.userAttributes[Int(b.user(key))] = attributes
            }
            b.reports.append(report)
        }

        var report = ReadReport(path: interURL.path)
        b.events.reserveCapacity(inter.approximateLineCount)
        let code = b.events.code(for: ratingColumn == nil ? .interaction : .rating)!
        try inter.forEachLine(.tab, skippingHeader: true, options: options, report: &report) { line throws(DataError) in
            let u = try IdInterner.key(line, userColumn, name: fields.user)
            let i = try IdInterner.key(line, itemColumn, name: fields.item)
            let value = try ratingColumn.map { c throws(DataError) in try line.float(c, name: fields.rating) } ?? 1
            let time = try timeColumn.map { c throws(DataError) in try line.timestamp(c, name: fields.timestamp) } ?? 0
            b.events.append(user: b.user(u), item: b.item(i), typeCode: code, value: value, timestamp: time)
        }
        b.reports.append(report)
        return b.build(name: name, order: options.idOrder)
    }
}

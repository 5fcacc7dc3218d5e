import Foundation

/// The layout of an interaction file for ``InteractionFileReader``.
public enum InteractionFileFormat: Sendable {
    /// Delimited text: RFC 4180 CSV on `separator` (`,` `;` TAB …), with or without a header line.
    case delimited(separator: UInt8, header: Bool)
    /// One JSON object per line; columns are keys.
    case jsonLines

    /// Comma-separated with a header line.
    public static let csv = InteractionFileFormat.delimited(separator: 44, header: true)
    /// Tab-separated with a header line.
    public static let tsv = InteractionFileFormat.delimited(separator: 9, header: true)
}

/// Reads events from any CSV, TSV or JSON Lines file, given which column is the user, the item,
/// and optionally the value, the timestamp and the event type.
public enum InteractionFileReader {
    /// Reads `url`.
    public static func load(_ url: URL, format: InteractionFileFormat = .csv, mapping: ColumnMapping,
                            options: ReadOptions = ReadOptions(), name: String? = nil) throws(DataError) -> Dataset {
        let text = try DelimitedText(contentsOf: url, encoding: options.encoding ?? .utf8)
        return try load(text, format: format, mapping: mapping, options: options,
                        name: name ?? url.deletingPathExtension().lastPathComponent)
    }

    /// Reads text already in memory (`text.path` names it in errors).
    public static func load(_ text: DelimitedText, format: InteractionFileFormat = .csv, mapping: ColumnMapping,
                            options: ReadOptions = ReadOptions(), name: String) throws(DataError) -> Dataset {
        var b = DatasetBuilder(hasTimestamps: mapping.timestamp != nil)
        var report = ReadReport(path: text.path)
        b.events.reserveCapacity(text.approximateLineCount)
        let defaultCode = try code(mapping.defaultEventType, &b, text.path)
        var typeCache: [(bytes: [UInt8], code: UInt8)] = []
        let wanted: [ColumnMapping.Column?] = [mapping.user, mapping.item, mapping.value, mapping.timestamp, mapping.eventType]
        let names = ["user", "item", "value", "timestamp", "event type"]

        /// Reads the mapped fields at `c` (indices into `line.fields`, -1 when unmapped).
        func record(_ line: DelimitedText.Line, _ c: [Int]) throws(DataError) {
            for (j, k) in c.enumerated() where k >= 0 && line.isEmpty(k) {
                throw line.malformed(k < line.count ? "the \(names[j]) field \(wanted[j]!) is empty"
                                                    : "expected at least \(k + 1) fields, found \(line.count)")
            }
            let u = try IdInterner.key(line, c[0], name: names[0])
            let i = try IdInterner.key(line, c[1], name: names[1])
            let value = c[2] >= 0 ? try line.float(c[2], name: names[2]) : 1
            var time: Int64 = 0
            if c[3] >= 0 { time = try timestamp(line, c[3], mapping.timestampFormat) }
            var typeCode = defaultCode
            if c[4] >= 0 {
                let raw = try line.bytes(c[4])
                if let hit = typeCache.first(where: { $0.bytes.elementsEqual(raw) }) { typeCode = hit.code } else {
                    let typeName = try line.string(c[4])
                    typeCode = try code(mapping.eventTypeNames[typeName] ?? EventType(typeName), &b, line)
                    typeCache.append((Array(raw), typeCode))
                }
            }
            b.events.append(user: b.user(u), item: b.item(i), typeCode: typeCode, value: value, timestamp: time)
        }

        switch format {
        case let .delimited(separator, header):
            let sep = DelimitedText.Separator.csv(separator)
            var columns: [Int] = []
            let headerNames = header ? (try text.header(sep) ?? []) : []
            for (j, w) in wanted.enumerated() {
                guard let w else { columns.append(-1); continue }
                switch w {
                case let .index(k):
                    precondition(k >= 0, "ColumnMapping: negative column index")
                    columns.append(k)
                case let .name(n):
                    guard header else {
                        throw .inconsistent(path: text.path, reason: "the \(names[j]) column is named '\(n)', but the format has no header line; name columns by index")
                    }
                    guard let k = headerNames.firstIndex(of: n) else {
                        throw .malformedLine(path: text.path, line: 1,
                                             reason: "the header has no column '\(n)' for the \(names[j]) (found \(headerNames.joined(separator: ",")))")
                    }
                    columns.append(k)
                }
            }
            try text.forEachLine(sep, skippingHeader: header, options: options, report: &report) { line throws(DataError) in
                try record(line, columns)
            }
        case .jsonLines:
            var keys: [String] = []
            var columns: [Int] = []
            for (j, w) in wanted.enumerated() {
                guard let w else { columns.append(-1); continue }
                guard case let .name(n) = w else {
                    throw .inconsistent(path: text.path, reason: "the \(names[j]) column is given by position; JSON Lines columns are keys")
                }
                columns.append(keys.count)
                keys.append(n)
            }
            try JSONLines.forEachObject(text, keys: keys, options: options, report: &report) { line, present throws(DataError) in
                for (j, k) in columns.enumerated() where k >= 0 && !present[k] {
                    throw line.malformed("the object has no key '\(keys[k])' (the \(names[j]))")
                }
                try record(line, columns)
            }
        }
        b.reports.append(report)
        return b.build(name: name, order: options.idOrder)
    }

    static func code(_ type: EventType, _ b: inout DatasetBuilder, _ path: String) throws(DataError) -> UInt8 {
        guard let c = b.events.code(for: type) else { throw .inconsistent(path: path, reason: "more than 256 event types") }
        return c
    }

    static func code(_ type: EventType, _ b: inout DatasetBuilder, _ line: DelimitedText.Line) throws(DataError) -> UInt8 {
        try b.code(for: type, line: line)
    }

    static func timestamp(_ line: DelimitedText.Line, _ k: Int, _ format: ColumnMapping.TimestampFormat) throws(DataError) -> Int64 {
        let raw = try line.bytes(k)
        switch format {
        case .unixSeconds:
            return try line.timestamp(k, name: "timestamp")
        case .unixMilliseconds:
            let ms = try line.timestamp(k, name: "timestamp")
            return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000)
        case .iso8601:
            guard let t = CivilTime.iso8601(raw) else { throw line.malformed("field \(k + 1) (timestamp) is not an ISO 8601 date: '\(line.text(k))'") }
            return t
        case .automatic:
            if NumberParser.double(raw) != nil { return try line.timestamp(k, name: "timestamp") }
            guard let t = CivilTime.iso8601(raw) else {
                throw line.malformed("field \(k + 1) (timestamp) is neither Unix seconds nor an ISO 8601 date: '\(line.text(k))'")
            }
            return t
        }
    }
}

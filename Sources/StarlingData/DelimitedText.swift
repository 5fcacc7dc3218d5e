import Foundation

/// A fast reader of delimited text files (TSV, CSV with RFC 4180 quoting, `::`-separated): reads
/// the whole file once and hands out each line's fields as byte ranges, with 1-based line numbers
/// for error messages. CRLF line ends, a UTF-8 byte-order mark and a trailing line without a
/// newline are handled; empty lines are skipped. Numbers are parsed from the bytes without
/// building strings; only text fields are decoded, in the file's ``encoding``.
public struct DelimitedText {
    public let path: String
    public let bytes: [UInt8]
    /// How text fields are decoded by ``Line/string(_:)``.
    public var encoding: TextEncoding

    /// Loads `url`.
    public init(contentsOf url: URL, encoding: TextEncoding = .utf8) throws(DataError) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path, hint: "") }
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        path = url.path
        self.encoding = encoding
    }

    /// Wraps text already in memory (tests, request bodies); `path` names it in errors.
    public init(text: String, path: String = "<memory>") {
        bytes = Array(text.utf8)
        self.path = path
        encoding = .utf8
    }

    /// Wraps bytes already in memory; `path` names them in errors.
    public init(bytes: [UInt8], path: String = "<memory>", encoding: TextEncoding = .utf8) {
        self.bytes = bytes
        self.path = path
        self.encoding = encoding
    }

    /// How the fields of a line are separated.
    public enum Separator: Sendable {
        /// Any one of these bytes ends a field; with `mergeRuns`, runs of them count as one and
        /// leading or trailing ones make no empty field (whitespace-separated files).
        case bytes(Set<UInt8>, mergeRuns: Bool)
        /// A multi-byte sequence such as `::` (MovieLens 1M), where a single `:` is ordinary text.
        case sequence([UInt8])
        /// Comma-separated values with RFC 4180 quoting, on this separator byte: a field in double
        /// quotes may hold the separator, line breaks and doubled quotes (`""` for `"`).
        case csv(UInt8)

        /// Tab-separated, one tab per field boundary.
        public static let tab = Separator.bytes([9], mergeRuns: false)
        /// Runs of spaces and tabs.
        public static let whitespace = Separator.bytes([9, 32], mergeRuns: true)
        /// Quoted CSV on commas.
        public static let comma = Separator.csv(44)
        /// `s` as a separator: one byte, or a multi-byte sequence.
        public static func string(_ s: String) -> Separator {
            let b = Array(s.utf8)
            precondition(!b.isEmpty, "DelimitedText.Separator: empty separator")
            return b.count == 1 ? .bytes([b[0]], mergeRuns: false) : .sequence(b)
        }
    }

    /// One line (one record) being parsed.
    public struct Line {
        public let path: String
        /// The 1-based line number where the record starts.
        public let number: Int
        /// Each field's bytes; for a quoted CSV field, the bytes inside the quotes.
        public let fields: [Range<Int>]
        let bytes: UnsafeBufferPointer<UInt8>
        /// The encoding text fields are decoded with.
        public let encoding: TextEncoding
        /// Indices of fields with escapes to undo when decoded: doubled quotes (`""`) in CSV,
        /// backslash escapes in JSON strings.
        let escapedFields: [Int]
        /// Whether ``escapedFields`` hold JSON escapes rather than CSV ones.
        var jsonEscapes = false

        /// The number of fields.
        @inlinable public var count: Int { fields.count }

        /// Field `i` as text (decoded in ``encoding``, CSV quote escapes undone).
        public func string(_ i: Int) throws(DataError) -> String {
            try check(i)
            return text(i)
        }

        /// Field `i` as text, or `nil` when the line has no field `i`.
        public func optionalString(_ i: Int) -> String? {
            i < fields.count ? text(i) : nil
        }

        /// Whether field `i` is missing or empty.
        public func isEmpty(_ i: Int) -> Bool { i >= fields.count || fields[i].isEmpty }

        /// Field `i`'s raw bytes (inside CSV quotes, escapes not undone).
        public func bytes(_ i: Int) throws(DataError) -> UnsafeBufferPointer<UInt8> {
            try check(i)
            return UnsafeBufferPointer(rebasing: bytes[fields[i]])
        }

        /// Whether field `i` holds exactly these ASCII bytes (no string is built).
        public func field(_ i: Int, equals ascii: StaticString) -> Bool {
            guard i < fields.count else { return false }
            let r = fields[i]
            guard r.count == ascii.utf8CodeUnitCount else { return false }
            let p = ascii.utf8Start
            for k in 0..<r.count where bytes[r.lowerBound + k] != p[k] { return false }
            return true
        }

        func text(_ i: Int) -> String {
            let raw = UnsafeBufferPointer(rebasing: bytes[fields[i]])
            guard !escapedFields.isEmpty, escapedFields.contains(i) else { return encoding.decode(raw) }
            if jsonEscapes { return JSONLines.unescape(raw) }
            var collapsed: [UInt8] = []
            collapsed.reserveCapacity(raw.count)
            var k = 0
            while k < raw.count {
                collapsed.append(raw[k])
                k += (raw[k] == 34 && k + 1 < raw.count && raw[k + 1] == 34) ? 2 : 1
            }
            return encoding.decode(collapsed)
        }

        /// Field `i` parsed as a decimal integer (optional sign), with a clear error otherwise.
        public func int(_ i: Int, name: String) throws(DataError) -> Int {
            try check(i)
            guard let v = NumberParser.int(UnsafeBufferPointer(rebasing: bytes[fields[i]])) else {
                throw invalid(i, name, "an integer")
            }
            return v
        }

        /// Field `i` as an integer, or `nil` when it is empty (an error when it is neither).
        public func optionalInt(_ i: Int, name: String) throws(DataError) -> Int? {
            isEmpty(i) ? nil : try int(i, name: name)
        }

        /// Field `i` parsed as a floating-point number (decimal, optional exponent; `inf`/`nan`
        /// are accepted too), with a clear error otherwise.
        public func double(_ i: Int, name: String) throws(DataError) -> Double {
            try check(i)
            guard let v = NumberParser.double(UnsafeBufferPointer(rebasing: bytes[fields[i]])) else {
                throw invalid(i, name, "a number")
            }
            return v
        }

        /// Field `i` parsed as a `Float`.
        public func float(_ i: Int, name: String) throws(DataError) -> Float {
            Float(try double(i, name: name))
        }

        /// Field `i` as Unix seconds: an integer, or a decimal number rounded down
        /// (RecBole writes `881250949.0`-style values in `timestamp:float` columns).
        public func timestamp(_ i: Int, name: String) throws(DataError) -> Int64 {
            try check(i)
            let raw = UnsafeBufferPointer(rebasing: bytes[fields[i]])
            if let v = NumberParser.int(raw) { return Int64(v) }
            guard let d = NumberParser.double(raw), d.isFinite, abs(d) < 9.2e18 else { throw invalid(i, name, "a timestamp") }
            return Int64(d.rounded(.down))
        }

        /// An error for this line.
        public func malformed(_ reason: String) -> DataError {
            .malformedLine(path: path, line: number, reason: reason)
        }

        /// Throws unless the line has at least `n` fields.
        public func require(fields n: Int) throws(DataError) {
            guard fields.count >= n else {
                throw malformed("expected at least \(n) fields, found \(fields.count)")
            }
        }

        func check(_ i: Int) throws(DataError) {
            guard i < fields.count else {
                throw .malformedLine(path: path, line: number, reason: "expected at least \(i + 1) fields, found \(fields.count)")
            }
        }

        func invalid(_ i: Int, _ name: String, _ what: String) -> DataError {
            return .malformedLine(path: path, line: number, reason: "field \(i + 1) (\(name)) is not \(what): '\(text(i))'")
        }
    }

    /// Calls `body` for each non-empty line, split on any of the single-byte `separators`
    /// (runs of separators are not merged unless `mergeSeparators`).
    public func forEachLine(
        separators: Set<UInt8> = [9], mergeSeparators: Bool = false,
        _ body: (Line) throws(DataError) -> Void
    ) throws(DataError) {
        try scan(.bytes(separators, mergeRuns: mergeSeparators), skipFirstRecord: false, onError: { e throws(DataError) in throw e }, body)
    }

    /// Calls `body` for each non-empty record split by `separator`; a malformed record (a CSV
    /// quote that never closes, …) is an error naming the file and line.
    public func forEachLine(_ separator: Separator, skippingHeader: Bool = false,
                            _ body: (Line) throws(DataError) -> Void) throws(DataError) {
        try scan(separator, skipFirstRecord: skippingHeader, onError: { e throws(DataError) in throw e }, body)
    }

    /// Calls `body` for each non-empty record, counting records in `report`. A malformed line
    /// (one for which `body` throws ``DataError/malformedLine(path:line:reason:)``, or which the
    /// scanner cannot split) stops the reading, or — when `options` say so — is skipped and
    /// counted. `body` should check a whole line before it changes any state, so that a skipped
    /// line leaves no trace.
    public func forEachLine(_ separator: Separator, skippingHeader: Bool = false, options: ReadOptions,
                            report: inout ReadReport, _ body: (Line) throws(DataError) -> Void) throws(DataError) {
        let skip = options.malformedLines == .skip
        let limit = options.reasonLimit
        try scan(separator, skipFirstRecord: skippingHeader, onError: { e throws(DataError) in
            guard skip, case .malformedLine = e else { throw e }
            report.linesRead += 1
            report.recordSkip(e, limit: limit)
        }) { line throws(DataError) in
            report.linesRead += 1
            do throws(DataError) { try body(line) } catch {
                guard skip, case .malformedLine = error else { throw error }
                report.recordSkip(error, limit: limit)
            }
        }
    }

    /// The first non-empty record's fields as text (a header line), or `nil` for an empty file.
    public func header(_ separator: Separator) throws(DataError) -> [String]? {
        var names: [String]?
        try scan(separator, skipFirstRecord: false, maxRecords: 1, onError: { e throws(DataError) in throw e }) { line throws(DataError) in
            names = (0..<line.fields.count).map { line.text($0) }
        }
        return names
    }

    /// The number of non-empty lines (for reserving capacity).
    public var approximateLineCount: Int {
        bytes.withUnsafeBytes { raw in
            // Eight bytes at a time: a byte of `x` is zero exactly where the word has a newline.
            let words = raw.count / 8
            var newlines = 0
            let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, high: UInt64 = 0x8080_8080_8080_8080
            for w in 0..<words {
                let x = raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
                let nonZero = (((x & low7) &+ low7) | x) & high
                newlines += 8 - nonZero.nonzeroBitCount
            }
            for k in (words * 8)..<raw.count where raw[k] == 10 { newlines += 1 }
            return newlines + 1
        }
    }

    // MARK: - Scanning

    /// A 256-entry table: 1 for a separator byte, 2 for a newline.
    private static func table(_ separators: Set<UInt8>) -> [UInt8] {
        var t = [UInt8](repeating: 0, count: 256)
        for s in separators { t[Int(s)] = 1 }
        t[10] = 2
        return t
    }

    private func scan(_ separator: Separator, skipFirstRecord: Bool, maxRecords: Int = .max,
                      onError: (DataError) throws(DataError) -> Void,
                      _ body: (Line) throws(DataError) -> Void) throws(DataError) {
        let path = self.path
        let encoding = self.encoding
        try bytes.withUnsafeBufferPointer { (buf: UnsafeBufferPointer<UInt8>) throws(DataError) -> Void in
            let n = buf.count
            var lineStart = (n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) ? 3 : 0
            var lineNumber = 0
            var fields: [Range<Int>] = []
            fields.reserveCapacity(64)
            var escaped: [Int] = []
            var skipping = skipFirstRecord
            var records = 0
            switch separator {
            case let .bytes(set, merge):
                let table = Self.table(set)
                try table.withUnsafeBufferPointer { (t: UnsafeBufferPointer<UInt8>) throws(DataError) -> Void in
                    while lineStart < n {
                        lineNumber += 1
                        fields.removeAll(keepingCapacity: true)
                        var fieldStart = lineStart
                        var k = lineStart
                        while k < n {
                            let c = t[Int(buf[k])]
                            if c == 0 { k += 1; continue }
                            if c == 2 { break }
                            if !(merge && k == fieldStart) { fields.append(fieldStart..<k) }
                            fieldStart = k + 1
                            k += 1
                        }
                        let end = k
                        var contentEnd = end
                        if contentEnd > lineStart && buf[contentEnd - 1] == 13 { contentEnd -= 1 }
                        if contentEnd > lineStart {
                            if fieldStart > contentEnd { fieldStart = contentEnd }  // a separator CR
                            if !(merge && fieldStart == contentEnd) { fields.append(fieldStart..<contentEnd) }
                            if !fields.isEmpty {
                                if skipping { skipping = false } else {
                                    try body(Line(path: path, number: lineNumber, fields: fields, bytes: buf,
                                                  encoding: encoding, escapedFields: escaped))
                                    records += 1
                                    if records >= maxRecords { return }
                                }
                            }
                        }
                        lineStart = end + 1
                    }
                }
            case let .sequence(sep):
                precondition(!sep.isEmpty, "DelimitedText: empty separator")
                let first = sep[0], m = sep.count
                while lineStart < n {
                    lineNumber += 1
                    fields.removeAll(keepingCapacity: true)
                    var end = lineStart
                    while end < n && buf[end] != 10 { end += 1 }
                    var contentEnd = end
                    if contentEnd > lineStart && buf[contentEnd - 1] == 13 { contentEnd -= 1 }
                    if contentEnd > lineStart {
                        var fieldStart = lineStart
                        var k = lineStart
                        while k + m <= contentEnd {
                            if buf[k] == first {
                                var match = true
                                for j in 1..<m where buf[k + j] != sep[j] { match = false; break }
                                if match {
                                    fields.append(fieldStart..<k)
                                    k += m
                                    fieldStart = k
                                    continue
                                }
                            }
                            k += 1
                        }
                        fields.append(fieldStart..<contentEnd)
                        if skipping { skipping = false } else {
                            try body(Line(path: path, number: lineNumber, fields: fields, bytes: buf,
                                          encoding: encoding, escapedFields: escaped))
                            records += 1
                            if records >= maxRecords { return }
                        }
                    }
                    lineStart = end + 1
                }
            case let .csv(sep):
                precondition(sep != 34 && sep != 10 && sep != 13, "DelimitedText: a CSV separator cannot be a quote or a line break")
                while lineStart < n {
                    lineNumber += 1
                    let recordLine = lineNumber
                    fields.removeAll(keepingCapacity: true)
                    escaped.removeAll(keepingCapacity: true)
                    var k = lineStart
                    var failure: String?
                    fieldLoop: while true {
                        if k < n && buf[k] == 34 {
                            k += 1
                            let contentStart = k
                            var hasEscape = false
                            while true {
                                if k >= n { failure = "a quoted field is not closed before the end of the file"; break fieldLoop }
                                let c = buf[k]
                                if c == 34 {
                                    if k + 1 < n && buf[k + 1] == 34 { hasEscape = true; k += 2; continue }
                                    break
                                }
                                if c == 10 { lineNumber += 1 }
                                k += 1
                            }
                            fields.append(contentStart..<k)
                            if hasEscape { escaped.append(fields.count - 1) }
                            k += 1  // the closing quote
                            if k < n && buf[k] == sep { k += 1; continue fieldLoop }
                            if k < n && buf[k] == 13 && (k + 1 == n || buf[k + 1] == 10) { k += 1 }
                            if k >= n || buf[k] == 10 { break fieldLoop }
                            failure = "unexpected text after the closing quote of field \(fields.count)"
                            while k < n && buf[k] != 10 { k += 1 }
                            break fieldLoop
                        } else {
                            let fieldStart = k
                            while k < n && buf[k] != sep && buf[k] != 10 { k += 1 }
                            var end = k
                            if (k >= n || buf[k] == 10) && end > fieldStart && buf[end - 1] == 13 { end -= 1 }
                            fields.append(fieldStart..<end)
                            if k < n && buf[k] == sep { k += 1; continue fieldLoop }
                            break fieldLoop
                        }
                    }
                    let isBlank = failure == nil && fields.count == 1 && fields[0].isEmpty
                    if !isBlank {
                        if let failure {
                            if skipping { skipping = false }
                            try onError(.malformedLine(path: path, line: recordLine, reason: failure))
                        } else if skipping {
                            skipping = false
                        } else {
                            try body(Line(path: path, number: recordLine, fields: fields, bytes: buf,
                                          encoding: encoding, escapedFields: escaped))
                            records += 1
                            if records >= maxRecords { return }
                        }
                    }
                    lineStart = k + 1
                }
            }
        }
    }
}

/// Parses numbers straight from bytes.
enum NumberParser {
    /// A decimal integer with an optional sign; `nil` if malformed or out of range.
    @inline(__always)
    static func int(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var k = 0
        let n = b.count
        var negative = false
        if k < n && (b[k] == 45 || b[k] == 43) { negative = b[k] == 45; k += 1 }
        guard k < n else { return nil }
        if n - k <= 18 {
            var value = 0
            while k < n {
                let d = Int(b[k]) &- 48
                guard d >= 0 && d <= 9 else { return nil }
                value = value &* 10 &+ d
                k += 1
            }
            return negative ? -value : value
        }
        var value = 0
        while k < n {
            let d = Int(b[k]) &- 48
            guard d >= 0 && d <= 9 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1 && !o2 else { return nil }
            value = s
            k += 1
        }
        return value
    }

    static let powersOfTen: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { acc, _ in acc * 10 } }

    /// A decimal floating-point number: exact fast path (Clinger) for up to 15 significant digits
    /// and exponents within ±22, the standard library's parser otherwise.
    static func double(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = b.count
        var k = 0
        var negative = false
        if k < n && (b[k] == 45 || b[k] == 43) { negative = b[k] == 45; k += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var digits = 0
        while k < n, b[k] >= 48, b[k] <= 57 {
            let d = UInt64(b[k] - 48)
            if significant < 19 {
                mantissa = mantissa * 10 + d
                if mantissa != 0 { significant += 1 }
            } else { exponent += 1; significant += 1 }
            digits += 1; k += 1
        }
        if k < n && b[k] == 46 {
            k += 1
            while k < n, b[k] >= 48, b[k] <= 57 {
                let d = UInt64(b[k] - 48)
                if significant < 19 {
                    mantissa = mantissa * 10 + d
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                } else { significant += 1 }
                digits += 1; k += 1
            }
        }
        if digits > 0 && k < n && (b[k] == 101 || b[k] == 69) {
            k += 1
            var expNegative = false
            if k < n && (b[k] == 45 || b[k] == 43) { expNegative = b[k] == 45; k += 1 }
            var e = 0, expDigits = 0
            while k < n, b[k] >= 48, b[k] <= 57 {
                if e < 100_000 { e = e * 10 + Int(b[k] - 48) }
                expDigits += 1; k += 1
            }
            if expDigits == 0 { return slow(b) }
            exponent += expNegative ? -e : e
        }
        guard digits > 0, k == n else { return slow(b) }
        if significant <= 15 && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            v = exponent < 0 ? v / powersOfTen[-exponent] : v * powersOfTen[exponent]
            return negative ? -v : v
        }
        return slow(b)
    }

    static func slow(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !b.isEmpty, b.count < 400 else { return nil }
        return Double(String(decoding: b, as: UTF8.self))
    }
}

import Foundation

/// A fast reader of delimited text files (TSV, CSV without quoting, `::`-separated): reads the
/// whole file once and hands out each line's fields as byte ranges, with 1-based line numbers for
/// error messages. CRLF line ends and a trailing line without a newline are handled; empty lines
/// are skipped.
public struct DelimitedText {
    public let path: String
    public let bytes: [UInt8]

    /// Loads `url`.
    public init(contentsOf url: URL) throws(DataError) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path, hint: "") }
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        path = url.path
    }

    /// Wraps text already in memory (tests, request bodies); `path` names it in errors.
    public init(text: String, path: String = "<memory>") {
        bytes = Array(text.utf8)
        self.path = path
    }

    /// One line being parsed.
    public struct Line {
        public let path: String
        public let number: Int
        public let fields: [Range<Int>]
        let bytes: UnsafeBufferPointer<UInt8>

        /// Field `i` as text.
        public func string(_ i: Int) throws(DataError) -> String {
            try check(i)
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[fields[i]]), as: UTF8.self)
        }

        /// Field `i` parsed as a decimal integer (optional sign), with a clear error otherwise.
        public func int(_ i: Int, name: String) throws(DataError) -> Int {
            try check(i)
            let r = fields[i]
            var k = r.lowerBound
            var negative = false
            if k < r.upperBound && (bytes[k] == 45 || bytes[k] == 43) { negative = bytes[k] == 45; k += 1 }
            guard k < r.upperBound else { throw invalid(i, name, "an integer") }
            var value = 0
            while k < r.upperBound {
                let d = Int(bytes[k]) - 48
                guard d >= 0 && d <= 9 else { throw invalid(i, name, "an integer") }
                value = value &* 10 &+ d
                k += 1
            }
            return negative ? -value : value
        }

        /// Field `i` parsed as a floating-point number.
        public func double(_ i: Int, name: String) throws(DataError) -> Double {
            guard let v = Double(try string(i)) else { throw invalid(i, name, "a number") }
            return v
        }

        func check(_ i: Int) throws(DataError) {
            guard i < fields.count else {
                throw .malformedLine(path: path, line: number, reason: "expected at least \(i + 1) fields, found \(fields.count)")
            }
        }

        func invalid(_ i: Int, _ name: String, _ what: String) -> DataError {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[fields[i]]), as: UTF8.self)
            return .malformedLine(path: path, line: number, reason: "field \(i + 1) (\(name)) is not \(what): '\(text)'")
        }
    }

    /// Calls `body` for each non-empty line, split on any of the single-byte `separators`
    /// (runs of separators are not merged unless `mergeSeparators`).
    public func forEachLine(
        separators: Set<UInt8> = [9], mergeSeparators: Bool = false,
        _ body: (Line) throws(DataError) -> Void
    ) throws(DataError) {
        try bytes.withUnsafeBufferPointer { (buf: UnsafeBufferPointer<UInt8>) throws(DataError) -> Void in
            var lineStart = 0
            var lineNumber = 0
            let n = buf.count
            var fields: [Range<Int>] = []
            fields.reserveCapacity(16)
            while lineStart < n {
                lineNumber += 1
                var end = lineStart
                while end < n && buf[end] != 10 { end += 1 }
                var contentEnd = end
                if contentEnd > lineStart && buf[contentEnd - 1] == 13 { contentEnd -= 1 }
                if contentEnd > lineStart {
                    fields.removeAll(keepingCapacity: true)
                    var fieldStart = lineStart
                    var k = lineStart
                    while k < contentEnd {
                        if separators.contains(buf[k]) {
                            if !(mergeSeparators && k == fieldStart) { fields.append(fieldStart..<k) }
                            fieldStart = k + 1
                        }
                        k += 1
                    }
                    if !(mergeSeparators && fieldStart == contentEnd) { fields.append(fieldStart..<contentEnd) }
                    try body(Line(path: path, number: lineNumber, fields: fields, bytes: buf))
                }
                lineStart = end + 1
            }
        }
    }
}

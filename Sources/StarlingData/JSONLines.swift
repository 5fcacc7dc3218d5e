/// A byte-level reader of JSON Lines where each line is one object: it picks the values of a few
/// top-level keys without building a dictionary per line (nested objects and arrays are skipped).
/// The picked values are handed on as the fields of a ``DelimitedText/Line`` — a string's
/// content (escapes undone when decoded), or a number's text — so the same parsers apply.
enum JSONLines {
    /// Calls `body` with a line whose field `k` is the value of `keys[k]`; a key that is absent or
    /// `null` gives an empty field and `present[k] == false`.
    static func forEachObject(_ text: DelimitedText, keys: [String], options: ReadOptions, report: inout ReadReport,
                              _ body: (DelimitedText.Line, _ present: [Bool]) throws(DataError) -> Void) throws(DataError) {
        let keyBytes = keys.map { Array($0.utf8) }
        var fields = [Range<Int>](repeating: 0..<0, count: keys.count)
        var present = [Bool](repeating: false, count: keys.count)
        var escaped: [Int] = []
        try text.forEachLine(.bytes([], mergeRuns: false), options: options, report: &report) { line throws(DataError) in
            let b = line.bytes
            var k = line.fields[0].lowerBound
            let end = line.fields[0].upperBound
            for j in 0..<keys.count { fields[j] = 0..<0; present[j] = false }
            escaped.removeAll(keepingCapacity: true)

            func skipSpace() { while k < end, b[k] == 32 || b[k] == 9 || b[k] == 13 { k += 1 } }
            func fail(_ what: String) -> DataError { line.malformed("not a JSON object: \(what) at column \(k - line.fields[0].lowerBound + 1)") }
            /// Scans a string starting at the opening quote; returns its content range and whether it has escapes.
            func string() throws(DataError) -> (Range<Int>, Bool) {
                k += 1
                let start = k
                var hasEscape = false
                while k < end {
                    let c = b[k]
                    if c == 34 { let r = start..<k; k += 1; return (r, hasEscape) }
                    if c == 92 { hasEscape = true; k += 2; continue }
                    k += 1
                }
                throw fail("a string is not closed")
            }
            func skipValue() throws(DataError) {
                guard k < end else { throw fail("a value is missing") }
                switch b[k] {
                case 34: _ = try string()
                case 123, 91:
                    var depth = 0
                    while k < end {
                        let c = b[k]
                        if c == 34 { _ = try string(); continue }
                        if c == 123 || c == 91 { depth += 1 } else if c == 125 || c == 93 {
                            depth -= 1
                            if depth == 0 { k += 1; return }
                        }
                        k += 1
                    }
                    throw fail("an object or array is not closed")
                default:
                    let start = k
                    while k < end, b[k] != 44, b[k] != 125, b[k] != 32, b[k] != 9, b[k] != 93 { k += 1 }
                    if k == start { throw fail("a value is missing") }
                }
            }

            skipSpace()
            guard k < end, b[k] == 123 else { throw fail("expected '{'") }
            k += 1
            skipSpace()
            if k < end && b[k] == 125 { k += 1 } else {
                while true {
                    skipSpace()
                    guard k < end, b[k] == 34 else { throw fail("expected a key") }
                    let (keyRange, keyEscaped) = try string()
                    skipSpace()
                    guard k < end, b[k] == 58 else { throw fail("expected ':'") }
                    k += 1
                    skipSpace()
                    var match = -1
                    for (j, kb) in keyBytes.enumerated() {
                        if keyEscaped {
                            if unescape(UnsafeBufferPointer(rebasing: b[keyRange])) == keys[j] { match = j; break }
                        } else if keyRange.count == kb.count {
                            var same = true
                            for t in 0..<kb.count where b[keyRange.lowerBound + t] != kb[t] { same = false; break }
                            if same { match = j; break }
                        }
                    }
                    let valueStart = k
                    guard k < end else { throw fail("a value is missing") }
                    if match >= 0 && b[k] == 34 {
                        let (r, e) = try string()
                        fields[match] = r
                        present[match] = true
                        if e { escaped.append(match) }
                    } else {
                        try skipValue()
                        if match >= 0 {
                            let first = b[valueStart]
                            if first == 123 || first == 91 || first == 116 || first == 102 {
                                throw line.malformed("key '\(keys[match])' holds \(first == 123 ? "an object" : first == 91 ? "an array" : "a boolean"), not a string or a number")
                            }
                            if !(first == 110 && k - valueStart == 4) {  // null = absent
                                fields[match] = valueStart..<k
                                present[match] = true
                            }
                        }
                    }
                    skipSpace()
                    guard k < end else { throw fail("the object is not closed") }
                    if b[k] == 44 { k += 1; continue }
                    if b[k] == 125 { k += 1; break }
                    throw fail("expected ',' or '}'")
                }
            }
            skipSpace()
            guard k == end else { throw fail("text after the object") }
            var picked = DelimitedText.Line(path: line.path, number: line.number, fields: fields, bytes: b,
                                            encoding: .utf8, escapedFields: escaped)
            picked.jsonEscapes = true
            try body(picked, present)
        }
    }

    /// The text of a JSON string's content with its escapes undone (invalid escapes are kept).
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var k = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var v: UInt32 = 0
            for c in raw[at..<at + 4] {
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 65...70: d = UInt32(c - 55)
                case 97...102: d = UInt32(c - 87)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
        func append(_ scalar: UInt32) {
            let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(s)).utf8))
        }
        while k < raw.count {
            let c = raw[k]
            guard c == 92, k + 1 < raw.count else { out.append(c); k += 1; continue }
            let e = raw[k + 1]
            switch e {
            case 34, 92, 47: out.append(e); k += 2
            case 98: out.append(8); k += 2
            case 102: out.append(12); k += 2
            case 110: out.append(10); k += 2
            case 114: out.append(13); k += 2
            case 116: out.append(9); k += 2
            case 117:
                guard let u = hex4(k + 2) else { out.append(c); k += 1; continue }
                if u >= 0xD800 && u < 0xDC00, k + 11 < raw.count, raw[k + 6] == 92, raw[k + 7] == 117,
                   let low = hex4(k + 8), low >= 0xDC00 && low < 0xE000 {
                    append(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00))
                    k += 12
                } else {
                    append(u)
                    k += 6
                }
            default: out.append(c); k += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

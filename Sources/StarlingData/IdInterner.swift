/// Gives dense indices to the ids a reader meets, without building a `String` for numeric ids:
/// an id written as a canonical decimal integer (`42`, `-7`; not `042` or `+7`) is kept as an
/// `Int`, anything else as text. ``finish(order:)`` turns the result into an ``IdVocabulary``
/// and the renumbering that ``IdOrder`` asks for.
struct IdInterner {
    enum Key: Hashable {
        case int(Int)
        case text(String)

        var string: String {
            switch self {
            case let .int(v): return String(v)
            case let .text(s): return s
            }
        }
    }

    private(set) var keys: [Key] = []
    private var ints: [Int: Int32] = [:]
    private var texts: [String: Int32] = [:]

    init() {}

    /// An interner that starts with `vocabulary`'s ids at their indices.
    init(_ vocabulary: IdVocabulary) {
        for id in vocabulary.ids { _ = intern(Self.key(id)) }
    }

    var count: Int { keys.count }

    /// The key of a text id.
    static func key(_ id: String) -> Key {
        var s = id
        return s.withUTF8 { buf in
            if let v = canonicalInt(buf) { return .int(v) }
            return .text(id)
        }
    }

    /// The value of a canonical decimal integer of at most 18 digits, else `nil`.
    @inline(__always)
    static func canonicalInt(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = b.count
        guard n > 0 else { return nil }
        var k = 0
        let negative = b[0] == 45
        if negative { k = 1 }
        let digits = n - k
        guard digits >= 1 && digits <= 18 else { return nil }
        if b[k] == 48 && (digits > 1 || negative) { return nil }
        var v = 0
        while k < n {
            let d = Int(b[k]) &- 48
            guard d >= 0 && d <= 9 else { return nil }
            v = v &* 10 &+ d
            k += 1
        }
        return negative ? -v : v
    }

    /// The key of field `i` of `line`; an empty field is an error naming `name`.
    @inline(__always)
    static func key(_ line: DelimitedText.Line, _ i: Int, name: String) throws(DataError) -> Key {
        let b = try line.bytes(i)
        guard !b.isEmpty else { throw line.malformed("field \(i + 1) (\(name)) is empty") }
        if line.escapedFields.isEmpty, let v = canonicalInt(b) { return .int(v) }
        return .text(try line.string(i))
    }

    /// The key of field `i` of `line`, which must be a decimal integer (the datasets whose ids
    /// are numbers: MovieLens, SASRec, Taobao). The id is kept as a number: `007` is `7`.
    @inline(__always)
    static func intKey(_ line: DelimitedText.Line, _ i: Int, name: String) throws(DataError) -> Key {
        .int(try line.int(i, name: name))
    }

    /// The index of `key`, adding it if new.
    @inline(__always)
    mutating func intern(_ key: Key) -> Int32 {
        switch key {
        case let .int(v):
            if let k = ints[v] { return k }
            let k = Int32(keys.count)
            ints[v] = k
            keys.append(key)
            return k
        case let .text(s):
            if let k = texts[s] { return k }
            let k = Int32(keys.count)
            texts[s] = k
            keys.append(key)
            return k
        }
    }

    /// The index of `key` if it is known.
    func lookup(_ key: Key) -> Int32? {
        switch key {
        case let .int(v): return ints[v]
        case let .text(s): return texts[s]
        }
    }

    /// The vocabulary in the requested order, and `remap[old] = new` (`nil` when nothing moves).
    func finish(order: IdOrder) -> (vocabulary: IdVocabulary, remap: [Int32]?) {
        switch order {
        case .firstSeen:
            return (try! IdVocabulary(ids: keys.map(\.string)), nil)
        case .sorted:
            let order = keys.indices.sorted { a, b in
                switch (keys[a], keys[b]) {
                case let (.int(x), .int(y)): return x < y
                case (.int, .text): return true
                case (.text, .int): return false
                case let (.text(x), .text(y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
                }
            }
            var remap = [Int32](repeating: 0, count: keys.count)
            var identity = true
            for (new, old) in order.enumerated() {
                remap[old] = Int32(new)
                if new != old { identity = false }
            }
            return (try! IdVocabulary(ids: order.map { keys[$0].string }), identity ? nil : remap)
        }
    }
}

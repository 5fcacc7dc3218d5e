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
    /// `dense[v]` is the index of integer id `v` (or -1) for small non-negative ids: a direct
    /// table is several times faster than hashing when ids are many and scattered.
    private var dense: [Int32] = []
    /// Other integer ids.
    private var ints: [Int: Int32] = [:]
    private var texts: [String: Int32] = [:]
    /// The largest direct table (16 MiB of indices).
    static let denseLimit = 1 << 22

    init() {}

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
        if line.escapedFields.isEmpty || !line.escapedFields.contains(i) {
            if let v = canonicalInt(b) { return .int(v) }
            return .text(try line.string(i))
        }
        return key(try line.string(i))  // an escaped text may still spell a number (`"4\u0032"`)
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
            return intern(int: v)
        case let .text(s):
            if let k = texts[s] { return k }
            let k = Int32(keys.count)
            texts[s] = k
            keys.append(key)
            return k
        }
    }

    /// The index of integer id `v`, adding it if new.
    @inline(__always)
    mutating func intern(int v: Int) -> Int32 {
        if v >= 0 && v < dense.count {
            let k = dense[v]
            if k >= 0 { return k }
            let n = Int32(keys.count)
            dense[v] = n
            keys.append(.int(v))
            return n
        }
        // Grow the direct table while it stays within a small multiple of the ids seen.
        if v >= 0 && v < Self.denseLimit && v < 16 * (keys.count + 4096) {
            growDense(to: v + 1)
            return intern(int: v)
        }
        if let k = ints[v] { return k }
        let n = Int32(keys.count)
        ints[v] = n
        keys.append(.int(v))
        return n
    }

    /// Grows the direct table to at least `minimum` entries, moving ids it now covers out of the
    /// dictionary.
    private mutating func growDense(to minimum: Int) {
        var size = max(1024, dense.count)
        while size < minimum { size *= 2 }
        size = min(size, Self.denseLimit)
        dense.append(contentsOf: repeatElement(-1, count: size - dense.count))
        if !ints.isEmpty {
            for (v, k) in ints where v >= 0 && v < size { dense[v] = k }
            ints = ints.filter { !($0.key >= 0 && $0.key < size) }
        }
    }

    /// The vocabulary in the requested order, and `remap[old] = new` (`nil` when nothing moves).
    func finish(order: IdOrder) -> (vocabulary: IdVocabulary, remap: [Int32]?) {
        switch order {
        case .firstSeen:
            return (try! IdVocabulary(ids: keys.map(\.string)), nil)
        case .sorted:
            var numbers: [(value: Int, index: Int)] = []
            var texts: [(text: String, index: Int)] = []
            numbers.reserveCapacity(keys.count)
            for (k, key) in keys.enumerated() {
                switch key {
                case let .int(v): numbers.append((v, k))
                case let .text(t): texts.append((t, k))
                }
            }
            numbers.sort { $0.value < $1.value }
            texts.sort { $0.text.utf8.lexicographicallyPrecedes($1.text.utf8) }
            let order = numbers.map(\.index) + texts.map(\.index)
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

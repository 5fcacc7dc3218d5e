/// Interns categorical hash values, keeping 8-hex-digit lowercase values as `UInt32` (no string
/// per value); index 0 is reserved for the missing value `""`.
struct HashInterner {
    enum Key: Hashable {
        case hex(UInt32)
        case text(String)
    }

    private var hexes: [UInt32: Int32] = [:]
    private var texts: [String: Int32] = ["": 0]
    private var keys: [Key] = [.text("")]

    init() {}

    /// Starts from `vocabulary` (whose index 0 must be `""`).
    init(_ vocabulary: IdVocabulary) {
        precondition(vocabulary.count > 0 && vocabulary[0] == "", "Criteo: a categorical vocabulary must start with \"\" (missing)")
        for k in 1..<vocabulary.count {
            var id = vocabulary.id(at: k)
            let key = id.withUTF8 { Self.hex($0) }.map(Key.hex) ?? .text(id)
            _ = intern(key)
        }
    }

    static func hex(_ b: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard b.count == 8 else { return nil }
        var v: UInt32 = 0
        for c in b {
            let d: UInt32
            if c >= 48 && c <= 57 { d = UInt32(c - 48) } else if c >= 97 && c <= 102 { d = UInt32(c - 87) } else { return nil }
            v = v << 4 | d
        }
        return v
    }

    static func key(_ line: DelimitedText.Line, _ i: Int) -> Key {
        let b = UnsafeBufferPointer(rebasing: line.bytes[line.fields[i]])
        if let h = hex(b) { return .hex(h) }
        return .text(line.text(i))
    }

    mutating func intern(_ key: Key) -> Int32 {
        if let k = lookup(key) { return k }
        let k = Int32(keys.count)
        switch key {
        case let .hex(h): hexes[h] = k
        case let .text(s): texts[s] = k
        }
        keys.append(key)
        return k
    }

    func lookup(_ key: Key) -> Int32? {
        switch key {
        case let .hex(h): return hexes[h]
        case let .text(s): return texts[s]
        }
    }

    var vocabulary: IdVocabulary {
        let ids = keys.map { key -> String in
            switch key {
            case let .hex(h):
                let s = String(h, radix: 16)
                return String(repeating: "0", count: 8 - s.count) + s
            case let .text(s): return s
            }
        }
        return try! IdVocabulary(ids: ids)
    }
}

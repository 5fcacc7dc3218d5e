/// The character encoding of a text file. Only the text fields are decoded (titles, tags,
/// string ids); numbers are parsed from the bytes, which are ASCII in both encodings.
public enum TextEncoding: String, Sendable, Codable, CaseIterable {
    /// UTF-8 (invalid sequences become U+FFFD). A byte-order mark at the start of a file is skipped.
    case utf8
    /// ISO-8859-1: every byte is the code point of the same value (the old MovieLens files).
    case latin1

    /// Decodes `bytes` to a `String`.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .latin1:
            var high = 0
            for b in bytes where b >= 0x80 { high += 1 }
            if high == 0 { return String(decoding: bytes, as: UTF8.self) }
            // Each byte >= 0x80 becomes two UTF-8 bytes: 110000xx 10xxxxxx.
            return String(unsafeUninitializedCapacity: bytes.count + high) { out in
                var k = 0
                for b in bytes {
                    if b < 0x80 {
                        out[k] = b; k += 1
                    } else {
                        out[k] = 0xC0 | (b >> 6); out[k + 1] = 0x80 | (b & 0x3F); k += 2
                    }
                }
                return k
            }
        }
    }

    /// Decodes an array of bytes.
    public func decode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { decode($0) }
    }
}

import Foundation
import NIOCore
import StarlingServe

/// The body of the hot routes (recommend, similar, rank): a list of scored items and what made
/// it. Encodable for the OpenAPI-shaped document; `json()` writes the same document straight into
/// a byte buffer (sorted snake_case keys, nil fields left out) without JSONEncoder, whose generic
/// containers cost more than the recommendation itself.
public struct RecommendationList: Encodable, Sendable {
    /// The user recommended for (recommend, rank).
    public var user: String?
    /// The item whose neighbours these are (similar).
    public var item: String?
    public var items: [Recommendation]
    public var modelVersion: Int?
    public var experiment: String?
    public var arm: String?

    public init(user: String? = nil, item: String? = nil, items: [Recommendation], modelVersion: Int? = nil,
                experiment: String? = nil, arm: String? = nil) {
        self.user = user
        self.item = item
        self.items = items
        self.modelVersion = modelVersion
        self.experiment = experiment
        self.arm = arm
    }

    /// The JSON document, as bytes ready to send.
    public func json() -> ByteBuffer {
        var out = JSONByteWriter(capacity: 96 + items.count * 96)
        out.open()
        if let arm { out.key("arm"); out.string(arm) }
        if let experiment { out.key("experiment"); out.string(experiment) }
        if let item { out.key("item"); out.string(item) }
        out.key("items")
        out.raw(UInt8(ascii: "["))
        for (k, r) in items.enumerated() {
            if k > 0 { out.raw(UInt8(ascii: ",")) }
            out.open()
            out.key("item"); out.string(r.item)
            out.key("score"); out.number(r.score)
            out.key("source"); out.string(r.source.rawValue)
            if let title = r.title { out.key("title"); out.string(title) }
            out.close()
        }
        out.raw(UInt8(ascii: "]"))
        if let modelVersion { out.key("model_version"); out.number(modelVersion) }
        if let user { out.key("user"); out.string(user) }
        out.close()
        return out.buffer
    }
}

/// Appends JSON tokens to a byte buffer; commas between an object's members are automatic.
struct JSONByteWriter {
    private(set) var buffer: ByteBuffer
    private var first = true

    init(capacity: Int) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    mutating func raw(_ byte: UInt8) { buffer.writeInteger(byte) }

    mutating func open() { raw(UInt8(ascii: "{")); first = true }

    mutating func close() { raw(UInt8(ascii: "}")); first = false }

    /// A member name (written as given: callers pass snake_case ASCII).
    mutating func key(_ name: StaticString) {
        if !first { raw(UInt8(ascii: ",")) }
        first = false
        raw(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    /// A string, escaped as RFC 8259 requires (quote, backslash and control characters).
    mutating func string(_ s: String) {
        raw(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for (k, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<k]))
                switch b {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    buffer.writeStaticString("\\u00")
                    raw(Self.hex(b >> 4))
                    raw(Self.hex(b & 15))
                }
                start = k + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
        raw(UInt8(ascii: "\""))
    }

    private static func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

    /// A float in its shortest round-tripping form; `null` if it is not finite (JSON has no NaN).
    mutating func number(_ x: Float) {
        guard x.isFinite else { buffer.writeStaticString("null"); return }
        if x == x.rounded(), abs(x) < 1e7 { buffer.writeString(String(Int(x))) } else { buffer.writeString(x.description) }
    }

    mutating func number(_ x: Int) { buffer.writeString(String(x)) }
}

import Foundation
import StarlingData

/// One behaviour event as the service receives and logs it: external ids, a type, a value and a
/// time, with an optional client-chosen id that makes re-sending it harmless.
public struct LoggedEvent: Sendable, Equatable, Codable {
    /// Client-chosen id for idempotency (a second event with the same id is not stored again).
    public var eventId: String?
    public var user: String
    public var item: String
    public var type: EventType
    /// 1 for most events, the rating for ratings.
    public var value: Float
    /// Milliseconds since 1970-01-01 UTC.
    public var timestamp: Int64

    public init(eventId: String? = nil, user: String, item: String, type: EventType, value: Float = 1, timestamp: Int64) {
        self.eventId = eventId
        self.user = user
        self.item = item
        self.type = type
        self.value = value
        self.timestamp = timestamp
    }

    /// The binary record body: timestamp (8 bytes), value (4), then four length-prefixed UTF-8
    /// strings (type, user, item, event id; 2-byte little-endian lengths, event id empty when absent).
    func encoded(into data: inout Data) {
        withUnsafeBytes(of: timestamp.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        for s in [type.rawValue, user, item, eventId ?? ""] {
            let bytes = Array(s.utf8.prefix(Int(UInt16.max)))
            withUnsafeBytes(of: UInt16(bytes.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: bytes)
        }
    }

    /// Decodes a body written by ``encoded(into:)``; `nil` when it is malformed.
    static func decode(_ body: UnsafeRawBufferPointer) -> LoggedEvent? {
        guard body.count >= 12 else { return nil }
        let timestamp = Int64(littleEndian: body.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        let value = Float(bitPattern: UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        var offset = 12
        var strings: [String] = []
        for _ in 0..<4 {
            guard offset + 2 <= body.count else { return nil }
            let n = Int(UInt16(littleEndian: body.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            offset += 2
            guard offset + n <= body.count else { return nil }
            strings.append(String(decoding: UnsafeRawBufferPointer(rebasing: body[offset..<(offset + n)]), as: UTF8.self))
            offset += n
        }
        guard offset == body.count else { return nil }
        return LoggedEvent(eventId: strings[3].isEmpty ? nil : strings[3], user: strings[1], item: strings[2],
                           type: EventType(rawValue: strings[0]), value: value, timestamp: timestamp)
    }
}

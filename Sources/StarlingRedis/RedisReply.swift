import CHiredis

/// A reply from Redis (RESP2), copied out of hiredis's reply object so it outlives it.
public enum RedisReply: Sendable, Equatable, CustomStringConvertible {
    /// A bulk string: arbitrary bytes.
    case bulk([UInt8])
    /// A simple status such as `OK` or `PONG`.
    case status(String)
    /// An integer (`INCR`, `XACK`, `EVALSHA` returning a number).
    case integer(Int64)
    /// An array of replies (`LRANGE`, `XREADGROUP`, `HGETALL`).
    case array([RedisReply])
    /// A nil bulk string or nil array (a missing key, a blocking read that timed out).
    case null
    /// An error reply (`ERR …`, `WRONGTYPE …`). ``RedisConnection/command(_:)-([String])`` throws it
    /// as ``RedisError/server(command:message:)``; pipelines return it in place.
    case error(String)

    /// Copies hiredis's reply (the caller frees it).
    init(_ reply: UnsafePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            self = .bulk(r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            self = .status(Self.text(r))
        case REDIS_REPLY_ERROR:
            self = .error(Self.text(r))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.integer))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            self = .array((0..<r.elements).map { k in r.element[k].map { RedisReply(UnsafePointer($0)) } ?? .null })
        default:
            self = .error("hiredis returned a reply of unknown type \(r.type)")
        }
    }

    private static func text(_ r: redisReply) -> String {
        guard let s = r.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: s, count: r.len), as: UTF8.self)
    }

    /// A bulk or status reply as UTF-8 text (nil for other replies and for bytes that are not UTF-8).
    public var string: String? {
        switch self {
        case let .bulk(bytes): return String(validating: bytes, as: UTF8.self)
        case let .status(s): return s
        default: return nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer.
    public var integer: Int64? {
        switch self {
        case let .integer(n): return n
        case .bulk: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    /// The elements of an array reply (nil for other replies).
    public var array: [RedisReply]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// This reply, or ``RedisError/server(command:message:)`` if it is an error reply.
    public func checked(_ command: String) throws(RedisError) -> RedisReply {
        if case let .error(message) = self { throw .server(command: command, message: message) }
        return self
    }

    /// A short description for messages: the kind and, for small replies, the content.
    public var description: String {
        switch self {
        case let .bulk(b):
            let s = String(decoding: b.prefix(40), as: UTF8.self)
            return "bulk string \"\(s)\(b.count > 40 ? "…" : "")\""
        case let .status(s): return "status \(s)"
        case let .integer(n): return "integer \(n)"
        case let .array(a): return "array of \(a.count)"
        case .null: return "nil"
        case let .error(m): return "error \(m)"
        }
    }
}

import Foundation
import Hummingbird
import NIOCore
import StarlingServe

/// JSON in and out of the API: snake_case keys, request bodies read up to a size limit, and
/// decoding errors turned into messages that name the field.
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = .sortedKeys
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    /// A JSON response with `status`.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A recommendation list, written without JSONEncoder (the hot routes).
    static func response(_ list: RecommendationList) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: list.json()))
    }

    /// The request body, at most `limit` bytes (413 beyond).
    static func body(_ request: Request, limit: Int) async throws -> Data {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limit) } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, message: "request body is larger than the limit of \(limit) bytes")
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, message: "request body is larger than the limit of \(limit) bytes")
        }
        return Data(buffer.readableBytesView)
    }

    /// Decodes a `T` from the request body.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        try decode(type, data: try await body(request, limit: limit))
    }

    static func decode<T: Decodable>(_ type: T.Type, data: Data) throws -> T {
        guard !data.isEmpty else { throw ServiceError.badRequest("the request body is empty; expected JSON") }
        do { return try decoder.decode(type, from: data) } catch let error as DecodingError {
            throw ServiceError.badRequest(describe(error))
        }
    }

    /// A decoding error as one line: what went wrong, and where.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let p = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\(snake($0.stringValue))" }.joined()
            return p.isEmpty ? "the body" : "field '\(p.hasPrefix(".") ? String(p.dropFirst()) : p)'"
        }
        switch error {
        case let .typeMismatch(type, c): return "\(path(c.codingPath)): expected \(name(type))"
        case let .valueNotFound(type, c): return "\(path(c.codingPath)): expected \(name(type)), found null"
        case let .keyNotFound(key, c): return "\(path(c.codingPath + [key])) is required"
        case let .dataCorrupted(c):
            let detail = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? c.debugDescription
            return c.codingPath.isEmpty ? "malformed JSON: \(detail)" : "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "malformed JSON"
        }
    }

    private static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "an array"
        default:
            let n = "\(type)"
            return n.hasPrefix("Array") ? "an array" : n.hasPrefix("Dictionary") ? "an object" : "a value of type \(n)"
        }
    }

    private static func snake(_ key: String) -> String {
        var out = ""
        for c in key {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}

/// An API error with its status and message (sent as `{"error": message}`).
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
}

/// The `{"error": …}` body of every error response.
struct ErrorBody: Encodable {
    var error: String
}

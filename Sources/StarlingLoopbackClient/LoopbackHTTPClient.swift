#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A small blocking HTTP/1.1 client for the service on this machine: one keep-alive connection
/// to a loopback address, for tests and the load generator. It refuses any other address.
///
/// (AsyncHTTPClient would do, but it brings BoringSSL into every build; a loopback client needs
/// none of TLS, redirects or proxies.)
public final class LoopbackHTTPClient {
    /// A response: status, headers (lower-cased names) and body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body parsed as a JSON object (`nil` if it is not one).
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    public enum ClientError: Error, CustomStringConvertible {
        case notLoopback(String)
        case connect(Int32)
        case io(String)
        case malformed(String)

        public var description: String {
            switch self {
            case let .notLoopback(h): return "\(h) is not a loopback address; this client only talks to 127.0.0.0/8"
            case let .connect(e): return "connect failed: \(String(cString: strerror(e)))"
            case let .io(m): return "i/o error: \(m)"
            case let .malformed(m): return "malformed response: \(m)"
            }
        }
    }

    public let host: String
    public let port: Int
    private var fd: Int32 = -1
    /// Bytes received and not yet consumed from `start` on.
    private var buffer = [UInt8]()
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 65_536)

    /// A client for `host:port`; `host` must be in 127.0.0.0/8.
    public init(host: String = "127.0.0.1", port: Int) throws {
        guard host.hasPrefix("127.") else { throw ClientError.notLoopback(host) }
        self.host = host
        self.port = port
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard s >= 0 else { throw ClientError.connect(errno) }
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let e = errno
            close(s)
            throw ClientError.connect(e)
        }
        fd = s
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// Closes the connection (the next request opens a new one).
    public func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// Sends one request and reads the response. A connection the server closed is reopened once.
    public func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> Response {
        do {
            try connectIfNeeded()
            return try exchange(method, path, body: body, headers: headers)
        } catch ClientError.io {
            disconnect()
            try connectIfNeeded()
            return try exchange(method, path, body: body, headers: headers)
        }
    }

    /// A request with a JSON body made from `object` (any JSONSerialization value).
    public func request(_ method: String, _ path: String, json object: Any, headers: [String: String] = [:]) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])
        return try request(method, path, body: data, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a })
    }

    private func exchange(_ method: String, _ path: String, body: Data?, headers: [String: String]) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body?.count ?? 0)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        var out = Array(head.utf8)
        if let body { out.append(contentsOf: body) }
        try writeAll(out)
        return try readResponse(method: method)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError.io("send: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Reads more bytes into the buffer; throws when the server closed the connection.
    private func fill() throws {
        if start > 0 && (start == buffer.count || start > 1 << 16) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return }
            if n < 0 && errno == EINTR { continue }
            throw ClientError.io(n == 0 ? "connection closed by the server" : "recv: \(String(cString: strerror(errno)))")
        }
    }

    /// The next line without its CR LF (bytes from the buffer's read position).
    private func readLine() throws -> ArraySlice<UInt8> {
        var scanned = 0  // bytes after `start` known to hold no line feed (`fill` may move `start`)
        while true {
            if let k = buffer[(start + scanned)...].firstIndex(of: 10) {
                var end = k
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = buffer[start..<end]
                start = k + 1
                return line
            }
            scanned = buffer.count - start
            try fill()
        }
    }

    private func readBytes(_ n: Int) throws -> ArraySlice<UInt8> {
        while buffer.count - start < n { try fill() }
        defer { start += n }
        return buffer[start..<(start + n)]
    }

    private static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return s
    }

    private func readResponse(method: String) throws -> Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: 32, maxSplits: 2)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), let status = Int(String(decoding: parts[1], as: UTF8.self)) else {
            throw ClientError.malformed("status line '\(String(decoding: statusLine, as: UTF8.self))'")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: 58) else { throw ClientError.malformed("header '\(String(decoding: line, as: UTF8.self))'") }
            let name = line[line.startIndex..<colon].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            headers[String(decoding: name, as: UTF8.self)] = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
        }
        var body = [UInt8]()
        if method == "HEAD" || status == 204 || status == 304 {
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine()
                let sizeText = String(decoding: sizeLine.split(separator: 59, omittingEmptySubsequences: false)[0], as: UTF8.self)
                guard let size = Int(sizeText, radix: 16) else { throw ClientError.malformed("chunk size '\(sizeText)'") }
                if size == 0 { _ = try readLine(); break }
                body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            body = Array(try readBytes(length))
        }
        if headers["connection"]?.lowercased() == "close" { disconnect() }
        return Response(status: status, headers: headers, body: Data(body))
    }
}

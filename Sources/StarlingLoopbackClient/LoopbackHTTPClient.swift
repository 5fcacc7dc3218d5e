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
    private var buffer = [UInt8]()

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
    }

    /// Closes the connection (the next request opens a new one).
    public func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
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
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65_536, 0) }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return }
            if n < 0 && errno == EINTR { continue }
            throw ClientError.io(n == 0 ? "connection closed by the server" : "recv: \(String(cString: strerror(errno)))")
        }
    }

    private func readLine() throws -> String {
        while true {
            if let k = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[0..<k], as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                buffer.removeSubrange(0...k)
                return line
            }
            try fill()
        }
    }

    private func readBytes(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer[0..<n])
        buffer.removeSubrange(0..<n)
        return out
    }

    private func readResponse(method: String) throws -> Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw ClientError.malformed("status line '\(statusLine)'")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw ClientError.malformed("header '\(line)'") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = [UInt8]()
        if method == "HEAD" || status == 204 || status == 304 {
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw ClientError.malformed("chunk size '\(sizeLine)'") }
                if size == 0 { _ = try readLine(); break }
                body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            body = try readBytes(length)
        }
        if headers["connection"]?.lowercased() == "close" { disconnect() }
        return Response(status: status, headers: headers, body: Data(body))
    }
}

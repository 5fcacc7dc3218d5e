import Hummingbird

/// Who may call what. Keys travel in `Authorization: Bearer KEY` or `X-API-Key: KEY`.
///
/// - admin keys: every route (models, experiments, and everything below);
/// - write keys: events and catalogue changes, and reads;
/// - read keys: reads; when none are set, reads need no key.
/// With no keys at all (a development set-up) every route is open.
public struct APIKeys: Sendable {
    public var admin: Set<String>
    public var write: Set<String>
    public var read: Set<String>

    public init(admin: Set<String> = [], write: Set<String> = [], read: Set<String> = []) {
        self.admin = admin
        self.write = write
        self.read = read
    }

    /// Whether any key is configured.
    public var isEnabled: Bool { !(admin.isEmpty && write.isEmpty && read.isEmpty) }

    /// The access a route needs.
    public enum Level: Int, Sendable, Comparable {
        case open = 0, read, write, admin
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// The access `key` grants.
    func level(of key: String?) -> Level {
        guard isEnabled else { return .admin }
        guard let key else { return read.isEmpty ? .read : .open }
        if admin.contains(key) { return .admin }
        if write.contains(key) { return .write }
        if read.contains(key) || read.isEmpty { return .read }
        return .open
    }
}

/// Refuses requests whose key does not grant the level their route needs: 401 without a key,
/// 403 with one that is not enough.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let needed = Self.level(method: request.method, path: request.uri.path)
        guard needed > .open, keys.isEnabled else { return try await next(request, context) }
        let key = Self.key(of: request)
        let granted = keys.level(of: key)
        guard granted >= needed else {
            throw APIError(status: key == nil ? .unauthorized : .forbidden,
                           message: key == nil ? "this route needs an API key (Authorization: Bearer KEY)" :
                               "this API key may not call \(request.method) \(request.uri.path) (needs a \(needed) key)")
        }
        return try await next(request, context)
    }

    static func key(of request: Request) -> String? {
        if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") { return String(auth.dropFirst(7)) }
        return request.headers.first { $0.name.canonicalName == "x-api-key" }?.value
    }

    /// The level a route needs: health, metrics and the pages are open; models and experiments
    /// admin; other writes write; other reads read.
    static func level(method: HTTPRequest.Method, path: String) -> APIKeys.Level {
        if path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/" || path == "/ops" { return .open }
        if path.hasPrefix("/models") || path.hasPrefix("/experiments") { return method == .get ? .read : .admin }
        if method == .get || method == .head { return .read }
        if method == .post && path == "/rank" { return .read }
        return .write
    }
}

extension APIKeys.Level: CustomStringConvertible {
    public var description: String {
        switch self {
        case .open: return "open"
        case .read: return "read"
        case .write: return "write"
        case .admin: return "admin"
        }
    }
}

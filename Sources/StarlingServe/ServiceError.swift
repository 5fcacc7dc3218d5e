/// A request the service cannot carry out, with the HTTP status it maps to and a message that
/// names the field, id or limit involved.
public enum ServiceError: Error, CustomStringConvertible, Equatable {
    /// The request is malformed or a field is invalid (400).
    case badRequest(String)
    /// A user, item, model version or experiment does not exist (404).
    case notFound(String)
    /// The resource already exists, or the action conflicts with the current state (409).
    case conflict(String)
    /// The service cannot answer yet (no model loaded, …) (503).
    case unavailable(String)

    /// The HTTP status code for this error.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .notFound: return 404
        case .conflict: return 409
        case .unavailable: return 503
        }
    }

    public var description: String {
        switch self {
        case let .badRequest(m), let .notFound(m), let .conflict(m), let .unavailable(m): return m
        }
    }
}

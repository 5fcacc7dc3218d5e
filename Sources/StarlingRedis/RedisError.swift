/// What went wrong talking to Redis. Every case names where: the server (`host:port`) or the
/// command, so a message in a log says which call failed and why.
public enum RedisError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No connection could be made to `endpoint` (`host:port`); `reason` is hiredis's message.
    case connectionFailed(endpoint: String, reason: String)
    /// The connection to `endpoint` broke during `command` (I/O error, timeout, closed by the
    /// server). The connection cannot be used again: open a new one.
    case connectionLost(endpoint: String, command: String, reason: String)
    /// The server answered `command` with an error reply (`message` is the server's text, e.g.
    /// `ERR unknown command 'NOSUCHCOMMAND'`).
    case server(command: String, message: String)
    /// The reply to `command` did not have the shape the caller needs.
    case unexpectedReply(command: String, expected: String, got: String)
    /// An argument or option the caller gave is unusable (the message names it).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .connectionFailed(endpoint, reason):
            return "cannot connect to Redis at \(endpoint): \(reason)"
        case let .connectionLost(endpoint, command, reason):
            return "the connection to Redis at \(endpoint) failed during \(command): \(reason)"
        case let .server(command, message):
            return "Redis \(command) failed: \(message)"
        case let .unexpectedReply(command, expected, got):
            return "Redis \(command): expected \(expected), got \(got)"
        case let .invalidArgument(message):
            return message
        }
    }

    /// Whether the server's error reply starts with `code` (e.g. `BUSYGROUP`, `NOSCRIPT`, `NOGROUP`).
    public func isServerError(_ code: String) -> Bool {
        if case let .server(_, message) = self { return message.hasPrefix(code + " ") || message == code }
        return false
    }
}

/// Why `simulate` could not go on, naming the request or step.
enum SimulationFailure: Error, CustomStringConvertible {
    /// The in-process server never reported a bound port.
    case serverDidNotStart(String)
    /// The service over this folder was still open long after its server stopped.
    case serviceStillOpen(String)
    /// A request was answered with an unexpected status.
    case http(method: String, path: String, status: Int, body: String)
    /// A response did not have the expected shape.
    case unexpectedResponse(path: String, reason: String)
    /// The service named an item the simulated world does not have.
    case unknownItem(String)

    var description: String {
        switch self {
        case let .serverDidNotStart(dir): return "the simulation server over \(dir) did not start"
        case let .serviceStillOpen(dir): return "the service over \(dir) was not released after its server stopped; its folder cannot be copied safely"
        case let .http(method, path, status, body): return "\(method) \(path) answered \(status): \(body.prefix(300))"
        case let .unexpectedResponse(path, reason): return "\(path): unexpected response (\(reason))"
        case let .unknownItem(id): return "the service recommended item '\(id)', which the simulated world does not have"
        }
    }
}

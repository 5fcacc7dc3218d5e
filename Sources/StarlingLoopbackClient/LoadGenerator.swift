import Foundation

/// Drives a server on this machine from threads of its own, each with one blocking keep-alive
/// connection, and records every request's latency: closed-loop (each connection sends its next
/// request as soon as the previous answer arrives, to find saturation) or open-loop at a fixed
/// rate (requests are due on a fixed schedule whatever the server does, and latency is counted
/// from when a request was due, so a slow server cannot hide its queueing: no coordinated omission).
public enum LoadGenerator {
    /// One request to send.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var body: Data?
        public var headers: [String: String]

        public init(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) {
            self.method = method
            self.path = path
            self.body = body
            self.headers = headers
        }
    }

    /// How requests are paced.
    public enum Pacing: Sendable {
        /// Each connection sends as fast as the server answers.
        case closedLoop
        /// This many requests per second in all, spread over the connections.
        case fixedRate(Double)
    }

    /// What a run measured.
    public struct Outcome: Sendable {
        /// Requests answered (successfully or not).
        public var requests: Int
        /// Transport failures plus answers whose status was not accepted.
        public var errors: Int
        /// Wall time from the first request to the last answer.
        public var seconds: Double
        /// Every request's latency in milliseconds, sorted.
        public var latenciesMs: [Double]
        /// The first error seen, for the report.
        public var firstError: String?

        public var requestsPerSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }

        /// The nearest-rank percentile `p` (0–100) of the latencies.
        public func percentileMs(_ p: Double) -> Double {
            guard !latenciesMs.isEmpty else { return .nan }
            let rank = Int((p / 100 * Double(latenciesMs.count)).rounded(.up))
            return latenciesMs[min(latenciesMs.count - 1, max(0, rank - 1))]
        }
    }

    /// Runs for `seconds` over `connections` connections to `127.0.0.1:port` (connection `c` to
    /// `ports[c % ports.count]` when several replicas share the load). `next(connection, n)` makes
    /// the `n`-th request of a connection; `accept` decides which statuses count as success; the
    /// run also ends early once `stop` returns true (asked before each request).
    public static func run(ports: [Int], connections: Int, seconds: Double, pacing: Pacing,
                           accept: @escaping @Sendable (Int) -> Bool = { (200..<300).contains($0) },
                           stop: @escaping @Sendable () -> Bool = { false },
                           next: @escaping @Sendable (_ connection: Int, _ n: Int) -> Request) -> Outcome {
        precondition(connections > 0 && seconds > 0 && !ports.isEmpty)
        let results = Results(count: connections)
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        for c in 0..<connections {
            group.enter()
            let thread = Thread {
                results.store(c, work(port: ports[c % ports.count], connection: c, connections: connections, start: start, deadline: deadline,
                                      pacing: pacing, accept: accept, stop: stop, next: next))
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return results.merged(seconds: elapsed)
    }

    private struct Partial: Sendable {
        var latenciesMs: [Double] = []
        var errors = 0
        var firstError: String?
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [Partial]
        init(count: Int) { parts = Array(repeating: Partial(), count: count) }
        func store(_ k: Int, _ p: Partial) { lock.withLock { parts[k] = p } }
        func merged(seconds: Double) -> Outcome {
            lock.withLock {
                let all = parts.flatMap(\.latenciesMs).sorted()
                return Outcome(requests: all.count, errors: parts.reduce(0) { $0 + $1.errors }, seconds: seconds, latenciesMs: all,
                               firstError: parts.compactMap(\.firstError).first)
            }
        }
    }

    private static func work(port: Int, connection c: Int, connections: Int, start: UInt64, deadline: UInt64, pacing: Pacing,
                             accept: (Int) -> Bool, stop: () -> Bool, next: (Int, Int) -> Request) -> Partial {
        var out = Partial()
        let client: LoopbackHTTPClient
        do { client = try LoopbackHTTPClient(port: port) } catch {
            out.errors = 1
            out.firstError = "\(error)"
            return out
        }
        out.latenciesMs.reserveCapacity(1 << 16)
        var n = 0
        while true {
            var due: UInt64
            switch pacing {
            case .closedLoop:
                due = DispatchTime.now().uptimeNanoseconds
            case let .fixedRate(rate):
                // The n-th request of this connection is the (c + n·connections)-th overall.
                due = start + UInt64(Double(c + n * connections) / rate * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now {
                    var pause = timespec(tv_sec: Int((due - now) / 1_000_000_000), tv_nsec: Int((due - now) % 1_000_000_000))
                    var remaining = timespec()
                    while nanosleep(&pause, &remaining) != 0 && errno == EINTR { pause = remaining }
                }
            }
            guard due < deadline, !stop() else { break }
            let request = next(c, n)
            n += 1
            do {
                let response = try client.request(request.method, request.path, body: request.body, headers: request.headers)
                if !accept(response.status) {
                    out.errors += 1
                    if out.firstError == nil { out.firstError = "\(request.method) \(request.path): HTTP \(response.status) \(response.text.prefix(200))" }
                }
            } catch {
                out.errors += 1
                if out.firstError == nil { out.firstError = "\(request.method) \(request.path): \(error)" }
                client.disconnect()
            }
            out.latenciesMs.append(Double(DispatchTime.now().uptimeNanoseconds - due) / 1e6)
        }
        return out
    }
}

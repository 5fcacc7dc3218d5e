import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The service's Prometheus metrics (per-route request counts and latency histograms, events
/// ingested, errors, the model version in use), plus the recent-latency window and ingestion
/// rate that the operations page shows.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    let eventsIngested: Counter
    let eventsReceived: Counter
    let modelVersion: Gauge
    let users: Gauge
    let items: Gauge
    private let latencies = Mutex<[String: LatencyWindow]>([:])
    private let ingestion = Mutex(RateWindow())
    static let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(5)]

    static var requests: MetricNameDescriptor { MetricNameDescriptor(namespace: "starling", subsystem: "http", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests by route pattern, method and status") }
    static var duration: MetricNameDescriptor { MetricNameDescriptor(namespace: "starling", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                                               helpText: "HTTP request latency by route pattern and method") }
    static var errors: MetricNameDescriptor { MetricNameDescriptor(namespace: "starling", subsystem: "http", metricName: "errors", unitName: "total",
                                             helpText: "HTTP responses with a 5xx status, by route pattern") }

    public init() {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "starling", metricName: metric, unitName: unit, helpText: help)
        }
        eventsIngested = registry.makeCounter(descriptor: name("events_ingested", "total", "Events appended durably to the log"))
        eventsReceived = registry.makeCounter(descriptor: name("events_received", "total", "Events received (including re-sent ids)"))
        modelVersion = registry.makeGauge(descriptor: name("model_version", "", "The active model version (0: none)"))
        users = registry.makeGauge(descriptor: name("users", "", "Users with activity"))
        items = registry.makeGauge(descriptor: name("items", "", "Items known to the engine"))
    }

    /// Sets gauge `starling_<metric>` with `labels` (made on first use).
    func setGauge(_ metric: String, help: String, labels: [(String, String)] = [], _ value: Double) {
        let key = metric + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let gauge = gauges.withLock { g in
            if let hit = g[key] { return hit }
            let made = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "starling", metricName: metric, unitName: "", helpText: help), labels: labels)
            g[key] = made
            return made
        }
        gauge.set(value)
    }

    /// Records one finished request.
    func record(route: String, method: String, status: Int, duration: Duration) {
        let key = "\(route) \(method) \(status)"
        let counter = counters.withLock { c in
            if let hit = c[key] { return hit }
            let made = registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", "\(status)")])
            c[key] = made
            return made
        }
        counter.increment()
        let hkey = "\(route) \(method)"
        let histogram = histograms.withLock { h in
            if let hit = h[hkey] { return hit }
            let made = registry.makeDurationHistogram(descriptor: Self.duration, labels: [("route", route), ("method", method)], buckets: Self.buckets)
            h[hkey] = made
            return made
        }
        histogram.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        if status >= 500 {
            counters.withLock { c in
                let k = "errors \(route)"
                let e = c[k] ?? registry.makeCounter(descriptor: Self.errors, labels: [("route", route)])
                c[k] = e
                return e
            }.increment()
        }
        latencies.withLock { $0["\(method) \(route)", default: LatencyWindow()].add(duration) }
    }

    /// Records ingested events.
    func recordIngest(received: Int, stored: Int) {
        eventsReceived.increment(by: Int64(received))
        eventsIngested.increment(by: Int64(stored))
        ingestion.withLock { $0.add(stored, at: Date().timeIntervalSince1970) }
    }

    /// Latency percentiles (milliseconds) over each route's latest requests.
    func latencySummary() -> [String: [String: Double]] {
        latencies.withLock { $0.mapValues { $0.percentiles } }
    }

    /// Events per second over the last 10 and 60 seconds.
    func ingestionRates() -> (last10s: Double, last60s: Double) {
        ingestion.withLock { $0.rates(now: Date().timeIntervalSince1970) }
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// The latest 2,048 latencies of one route.
struct LatencyWindow: Sendable {
    private var values: [Double] = []
    private var next = 0
    private(set) var count = 0
    static let capacity = 2048

    mutating func add(_ d: Duration) {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        if values.count < Self.capacity { values.append(ms) } else { values[next] = ms }
        next = (next + 1) % Self.capacity
        count += 1
    }

    var percentiles: [String: Double] {
        guard !values.isEmpty else { return [:] }
        let s = values.sorted()
        func p(_ q: Double) -> Double { s[min(s.count - 1, Int(q * Double(s.count)))] }
        return ["p50": p(0.5), "p95": p(0.95), "p99": p(0.99), "count": Double(count)]
    }
}

/// Event counts per second for the last minute.
struct RateWindow: Sendable {
    private var buckets = [Int](repeating: 0, count: 60)
    private var seconds = [Int](repeating: -1, count: 60)

    mutating func add(_ n: Int, at t: Double) {
        let s = Int(t), k = s % 60
        if seconds[k] != s { seconds[k] = s; buckets[k] = 0 }
        buckets[k] += n
    }

    func rates(now t: Double) -> (Double, Double) {
        let s = Int(t)
        var last10 = 0, last60 = 0
        for k in 0..<60 where seconds[k] > s - 60 && seconds[k] <= s {
            last60 += buckets[k]
            if seconds[k] > s - 10 { last10 += buckets[k] }
        }
        return (Double(last10) / 10, Double(last60) / 60)
    }
}

/// Times every request and records it under its route pattern (`/items/{id}`, not the id).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.record(route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
                           status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status,
                           duration: ContinuousClock.now - start)
            throw error
        }
    }
}

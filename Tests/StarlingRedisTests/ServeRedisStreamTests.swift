import Foundation
import StarlingData
import StarlingLoopbackClient
import StarlingRedis
import StarlingStream
import StarlingTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `starling serve --redis … --redis-stream events` as a child process: events published to the
/// stream reach the service, features live in Redis, and a server killed mid-stream and
/// restarted with the same consumer name ends with every event exactly once.
@Suite("starling serve consuming a Redis stream")
struct ServeRedisStreamTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A running `starling serve`, its output in a file.
    struct Server {
        let process: Process
        let port: Int
        let output: URL

        static func start(directory: URL, redisPort: Int, round: Int) throws -> Server {
            let binary = StarlingExecutable.url
            guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw Failure(description: "no starling binary at \(binary.path)") }
            let output = directory.appendingPathComponent("serve-\(round).out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["serve", "--directory", directory.appendingPathComponent("service").path, "--port", "0", "--auto-create-items",
                                 "--redis", "127.0.0.1:\(redisPort)", "--redis-stream", "events", "--redis-consumer", "replica-1"]
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try? handle.close()
            let deadline = Date().addingTimeInterval(60)
            while true {
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    let digits = text[range.upperBound...].prefix { $0.isNumber }
                    if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first?.isNewline == true {
                        return Server(process: process, port: port, output: output)
                    }
                }
                guard process.isRunning, Date() < deadline else {
                    if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
                    throw Failure(description: "starling serve did not report its port: \(text.suffix(2000))")
                }
                usleep(10_000)
            }
        }

        var log: String { String(((try? String(contentsOf: output, encoding: .utf8)) ?? "").suffix(3000)) }

        func stop(signal: Int32) {
            if process.isRunning { kill(process.processIdentifier, signal) }
            process.waitUntilExit()
        }

        /// The service's event count (`GET /stats`).
        func events() throws -> Int {
            let client = try LoopbackHTTPClient(port: port)
            guard let n = try client.request("GET", "/stats").json?["events"] as? Int else { throw Failure(description: "no events in /stats") }
            return n
        }

        /// Polls `/stats` until `condition` holds for the event count (or `seconds` pass).
        func waitForEvents(seconds: Double = 60, _ condition: (Int) -> Bool) throws -> Int {
            let deadline = Date().addingTimeInterval(seconds)
            var n = try events()
            while !condition(n) && Date() < deadline {
                usleep(10_000)
                n = try events()
            }
            return n
        }
    }

    static func events(_ range: Range<Int>, now: Int64) -> [LoggedEvent] {
        range.map { k -> LoggedEvent in
            let id: String? = k % 2 == 0 ? "event-\(k)" : nil
            let type: EventType = k % 4 == 0 ? .purchase : .click
            return LoggedEvent(eventId: id, user: "u\(k % 10)", item: "i\(k % 20)", type: type, value: 1, timestamp: now - Int64(range.upperBound - k))
        }
    }

    @Test("events published to a stream reach the running service; a restart after SIGKILL loses and duplicates nothing")
    func serveConsumesStream() async throws {
        try await RedisTestServer.withAsync { redis in
            try await Self.onThread { try Self.scenario(redis) }
        }
    }

    static func scenario(_ redis: RedisTestServer) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-serve-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let publisher = try RedisEventPublisher(port: redis.port, key: "events")
        let c = try redis.connect()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var expectedIds: [String] = []
        func publish(_ events: [LoggedEvent]) throws {
            let ids = try publisher.publish(events)
            expectedIds += zip(events, ids).map { $0.eventId ?? $1 }
        }

        // Published before the service first starts: its new group begins at the stream's start.
        let first = Self.events(0..<200, now: now)
        try publish(first)
        let malformed = try c.command(["XADD", "events", "*", "user", "u1", "item", "i1", "value", "lots"]).string!
        let refused = try c.command(["XADD", "events", "*", "user", "u1", "item", "i1", "type", "Not A Type"]).string!

        var server = try Server.start(directory: directory, redisPort: redis.port, round: 0)
        defer { server.stop(signal: SIGKILL) }
        let n1 = try server.waitForEvents { $0 >= 200 }
        #expect(n1 == 200, "\(server.log)")
        // Features are in Redis: the service's answer and the hash agree. (The event count moves
        // when events are durable; the features are recorded right after, so they may lag a moment.)
        let client = try LoopbackHTTPClient(port: server.port)
        let u3 = first.filter { $0.user == "u3" }
        var values: [String: Any]?
        let featuresDeadline = Date().addingTimeInterval(10)
        repeat {
            values = try client.request("GET", "/features/user/u3").json?["values"] as? [String: Any]
            if (values?["user_events_1d"] as? NSNumber)?.intValue == u3.count { break }
            usleep(10_000)
        } while Date() < featuresDeadline
        #expect((values?["user_events_1d"] as? NSNumber)?.intValue == u3.count)
        #expect((values?["user_clicks_1h"] as? NSNumber)?.intValue == u3.filter { $0.type == .click }.count)
        #expect((try c.command(["HGET", "starling:features:user:u3", "user_events_1d|n"])).integer != nil)
        // Both bad entries went to the dead-letter stream with their reasons.
        let deadline = Date().addingTimeInterval(10)
        while (try c.command(["XLEN", "events:dead"]).integer ?? 0) < 2 && Date() < deadline { usleep(10_000) }
        let dead = try c.command(["XRANGE", "events:dead", "-", "+"]).array ?? []
        let fields = dead.map { entry -> [String: String] in
            let flat = entry.array?[1].array ?? []
            return Dictionary(stride(from: 0, to: flat.count, by: 2).map { (flat[$0].string ?? "", flat[$0 + 1].string ?? "") }) { a, _ in a }
        }
        #expect(fields.map { $0["entry_id"] } == [malformed, refused])
        #expect(fields.map { $0["field"] } == ["value", "type"])
        #expect(fields.last?["reason"]?.contains("Not A Type") == true, "\(fields)")

        // A big wave; the server is killed while it consumes it, and more arrive while it is down.
        try publish(Self.events(200..<3200, now: now))
        let atKill = try server.waitForEvents { $0 > 200 }
        server.stop(signal: SIGKILL)
        #expect(atKill > 200)
        try publish(Self.events(3200..<3300, now: now))

        server = try Server.start(directory: directory, redisPort: redis.port, round: 1)
        let n2 = try server.waitForEvents { $0 >= 3300 }
        #expect(n2 == 3300, "\(server.log)")
        usleep(500_000)
        #expect(try server.events() == 3300)
        #expect(try c.command(["XPENDING", "events", "starling"]).array?.first?.integer == 0)
        server.stop(signal: SIGTERM)
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0, "\(server.log)")

        // The log holds every event once.
        let log = try DurableEventLog(url: directory.appendingPathComponent("service/events.log"))
        let stored = try log.events().compactMap(\.eventId)
        #expect(stored.count == 3300 && Set(stored).count == 3300)
        #expect(Set(stored) == Set(expectedIds))
        print("serve + Redis stream: the server was killed with at least \(atKill) events stored (200 before the wave of 3,000); 3,300 after the restart, each once")
    }

    /// Runs blocking work on a thread of its own (not on the cooperative pool).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

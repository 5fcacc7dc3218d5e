import Foundation
import StarlingLoopbackClient
import StarlingStream
import StarlingTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `starling serve` SIGKILLed while clients post events over HTTP, three times on the same folder:
/// every event acknowledged with a 2xx is there afterwards, exactly once.
@Suite("Server crash during HTTP ingestion")
struct ServerCrashTests {
    static let clients = 4
    static let batchSize = 50
    /// The server is killed once a round has this many batches acknowledged and has been
    /// ingesting for `secondsBeforeKill`.
    static let batchesBeforeKill = 40
    static let secondsBeforeKill = 0.5
    static let rounds = 3

    @Test("SIGKILL during ingestion loses no acknowledged event; re-sent events are stored once")
    func killedServerLosesNoAcknowledgedEvent() async throws {
        let binary = StarlingExecutable.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no starling binary at \(binary.path)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-server-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let children = Children()
        defer {
            children.killAll()
            try? FileManager.default.removeItem(at: directory)
        }
        let ledger = Ledger()
        var acknowledgedBefore = 0, rounds: [RoundReport] = []

        for round in 0..<Self.rounds {
            let report = try await Self.blocking {
                try Self.crashRound(round, binary: binary, directory: directory, ledger: ledger, children: children)
            }
            #expect(report.killedBySignal == SIGKILL, "round \(round): the server ended with \(report.termination)")
            #expect(report.batchesAcknowledged >= Self.batchesBeforeKill, "round \(round)")
            #expect(report.unexpected == [], "round \(round)")
            // The restarted server found at least every event acknowledged before the kill.
            #expect(report.eventsAtStart.map { $0 >= acknowledgedBefore } == true,
                    "round \(round): opened with \(report.eventsAtStart ?? -1) events, \(acknowledgedBefore) acknowledged before")
            acknowledgedBefore = ledger.state.withLock { $0.acknowledged.count }
            rounds.append(report)
        }
        let sentBeforeFinal = ledger.state.withLock { $0.sent }
        let inFlightAtKills = ledger.state.withLock { $0.inFlightAtKills }
        // Requests were cut off by the kills (their batches are retried below, like a client would).
        #expect(inFlightAtKills >= 1)

        let final = try await Self.blocking { try Self.finalCheck(binary: binary, directory: directory, ledger: ledger, children: children) }
        let acknowledged = ledger.state.withLock { $0.acknowledged }
        #expect(final.unexpected == [])
        #expect(final.retried.allSatisfy { $0 == true }, "retried batches not acknowledged after the restart: \(final.retried)")
        // Every event sent was acknowledged in the end (retried batches included), and the service
        // holds exactly those: nothing lost, nothing twice.
        #expect(acknowledged.count == sentBeforeFinal + Self.batchSize / 2)
        #expect(final.eventsAfterRestart == acknowledged.count - Self.batchSize / 2, "events served after the last restart")
        #expect(final.resentStored == Array(repeating: 0, count: final.resentStored.count) && final.resentStored.count == 10)
        #expect(final.mixedStored == Self.batchSize / 2)
        #expect(final.eventsAfterResend == acknowledged.count)
        // History counts (distinct items per user) through the API match the acknowledged events.
        var expectedHistory: [String: Set<String>] = [:]
        for event in acknowledged.values { expectedHistory[event.user, default: []].insert(event.item) }
        #expect(final.historyCounts == expectedHistory.mapValues(\.count))
        // The log file itself: every acknowledged id once, nothing else.
        #expect(final.logIds.count == acknowledged.count)
        #expect(Set(final.logIds) == Set(acknowledged.keys))
        #expect(Set(final.logIds).count == final.logIds.count, "an event id is stored twice")
        #expect(final.eventsAtStart.map { $0 >= acknowledgedBefore } == true)
        #expect(final.stoppedCleanly)
        print("server crash test: \(Self.rounds) kills after \(rounds.map { "\($0.batchesAcknowledged) batches" }.joined(separator: ", ")) "
            + "acknowledged; \(inFlightAtKills) batches in flight at the kills (retried after the restart); "
            + "\(acknowledged.count) events acknowledged in all, each found once (events at the restarts: "
            + "\((rounds.dropFirst().map(\.eventsAtStart) + [final.eventsAtStart]).map { "\($0 ?? -1)" }.joined(separator: ", ")))")
    }

    // MARK: - The rounds

    struct RoundReport: Sendable {
        var termination: String
        var killedBySignal: Int32?
        var batchesAcknowledged: Int
        var unexpected: [String]
        /// The events the server reported when it opened the folder.
        var eventsAtStart: Int?
    }

    /// Starts the server, lets the clients post until `batchesBeforeKill` batches are
    /// acknowledged, SIGKILLs it while they are still posting, and waits for the clients to stop.
    static func crashRound(_ round: Int, binary: URL, directory: URL, ledger: Ledger, children: Children) throws -> RoundReport {
        let server = try ServerProcess.start(binary: binary, directory: directory, name: "round-\(round)", children: children)
        ledger.state.withLock { $0.roundAcks = 0; $0.stopped = false; $0.unexpected = [] }
        let done = DispatchGroup()
        for t in 0..<clients {
            done.enter()
            Thread {
                postBatches(round: round, client: t, port: server.port, ledger: ledger)
                done.leave()
            }.start()
        }
        let started = Date(), deadline = started.addingTimeInterval(30)
        while ledger.state.withLock({ $0.roundAcks }) < batchesBeforeKill || Date().timeIntervalSince(started) < secondsBeforeKill {
            if Date() > deadline || !server.process.isRunning {
                kill(server.process.processIdentifier, SIGKILL)
                ledger.state.withLock { $0.stopped = true }
                _ = done.wait(timeout: .now() + 30)
                throw TestError("round \(round): only \(ledger.state.withLock { $0.roundAcks }) batches acknowledged in 30 s; "
                    + "server output: \(server.output())")
            }
            usleep(1000)
        }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        ledger.state.withLock { $0.stopped = true }
        guard done.wait(timeout: .now() + 30) == .success else { throw TestError("round \(round): the clients did not stop") }
        return ledger.state.withLock { s in
            s.inFlightAtKills += s.pending.count
            return RoundReport(termination: server.termination,
                               killedBySignal: server.process.terminationReason == .uncaughtSignal ? server.process.terminationStatus : nil,
                               batchesAcknowledged: s.roundAcks, unexpected: s.unexpected, eventsAtStart: server.eventsAtStart)
        }
    }

    /// One client: first the batch it had in flight when the server died (retried, as a client
    /// would), then new batches until the server goes away.
    static func postBatches(round: Int, client t: Int, port: Int, ledger: Ledger) {
        guard let client = try? LoopbackHTTPClient(port: port) else { return }
        var generator = SplitMix64(seed: UInt64(round * 1000 + t))
        var b = 0
        while true {
            let batch: Batch
            let retry = ledger.state.withLock { s -> Batch? in s.stopped ? nil : s.pending[t] }
            if let retry { batch = retry } else {
                if ledger.state.withLock({ $0.stopped }) { return }
                batch = Batch.make(prefix: "r\(round)-c\(t)-b\(b)", count: batchSize, generator: &generator)
                b += 1
                ledger.state.withLock { $0.pending[t] = batch; $0.sent += batch.events.count }
            }
            let response: LoopbackHTTPClient.Response
            do { response = try client.request("POST", "/events", body: batch.body, headers: ["Content-Type": "application/json"]) } catch {
                return  // the server is gone (killed): this batch stays pending
            }
            guard (200..<300).contains(response.status) else {
                ledger.state.withLock { $0.unexpected.append("\(response.status): \(response.text)") }
                return
            }
            ledger.state.withLock { s in
                for e in batch.events { s.acknowledged[e.id] = e }
                s.pending[t] = nil
                s.ackedBatches.append(batch)
                s.roundAcks += 1
            }
        }
    }

    struct FinalReport: Sendable {
        var retried: [Bool] = []
        var eventsAfterRestart = -1
        var resentStored: [Int] = []
        var mixedStored = -1
        var eventsAfterResend = -1
        var historyCounts: [String: Int] = [:]
        var unexpected: [String] = []
        var stoppedCleanly = false
        var logIds: [String] = []
        var eventsAtStart: Int?
    }

    /// Restarts the server, retries the batches cut off by the last kill, re-sends acknowledged
    /// batches (and one half new), reads the counts back through the API, stops the server and
    /// reads the log file.
    static func finalCheck(binary: URL, directory: URL, ledger: Ledger, children: Children) throws -> FinalReport {
        let server = try ServerProcess.start(binary: binary, directory: directory, name: "final", children: children)
        let client = try LoopbackHTTPClient(port: server.port)
        var report = FinalReport()
        report.eventsAtStart = server.eventsAtStart
        func post(_ batch: Batch) throws -> Int? {
            let r = try client.request("POST", "/events", body: batch.body, headers: ["Content-Type": "application/json"])
            guard r.status == 200, let received = r.json?["received"] as? Int, received == batch.events.count else {
                report.unexpected.append("\(r.status): \(r.text)")
                return nil
            }
            return r.json?["stored"] as? Int
        }
        func events() throws -> Int { try client.request("GET", "/stats").json?["events"] as? Int ?? -1 }

        for (t, batch) in ledger.state.withLock({ $0.pending }).sorted(by: { $0.key < $1.key }) {
            let stored = try post(batch)
            report.retried.append(stored != nil)
            if stored != nil { ledger.state.withLock { s in for e in batch.events { s.acknowledged[e.id] = e }; s.pending[t] = nil } }
        }
        report.eventsAfterRestart = try events()
        // Ten acknowledged batches again, spread over the rounds: nothing new is stored.
        let acked = ledger.state.withLock { $0.ackedBatches }
        for k in 0..<10 { report.resentStored.append(try post(acked[k * acked.count / 10]) ?? -1) }
        // Half acknowledged, half new: only the new half is stored.
        var generator = SplitMix64(seed: 99)
        let fresh = Batch.make(prefix: "final", count: batchSize / 2, generator: &generator)
        let mixed = Batch(events: Array(acked[acked.count / 2].events.prefix(batchSize / 2)) + fresh.events)
        report.mixedStored = try post(mixed) ?? -1
        ledger.state.withLock { s in for e in fresh.events { s.acknowledged[e.id] = e } }
        report.eventsAfterResend = try events()
        for user in Batch.users {
            report.historyCounts[user] = try client.request("GET", "/users/\(user)/history").json?["interactions"] as? Int
        }
        client.disconnect()

        server.process.terminate()
        report.stoppedCleanly = server.wait(seconds: 20) && server.process.terminationReason == .exit && server.process.terminationStatus == 0
        let log = try DurableEventLog(url: directory.appendingPathComponent("events.log"))
        report.logIds = try log.events().compactMap(\.eventId)
        return report
    }

    // MARK: - Support

    /// Runs blocking work on a thread of its own, off Swift concurrency's few threads.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    struct Event: Sendable {
        var id: String
        var user: String
        var item: String
    }

    /// Events as one `POST /events` body.
    struct Batch: Sendable {
        var events: [Event]
        var body: Data

        static let users = (0..<7).map { "crash-user-\($0)" }

        init(events: [Event]) {
            self.events = events
            let objects = events.enumerated().map { k, e in
                #"{"event_id":"\#(e.id)","user":"\#(e.user)","item":"\#(e.item)","type":"\#(k % 5 == 0 ? "purchase" : "click")","#
                    + #""value":1,"timestamp":\#(1_700_000_000_000 + Int64(k) * 1000)}"#
            }
            body = Data(("[" + objects.joined(separator: ",") + "]").utf8)
        }

        static func make(prefix: String, count: Int, generator: inout SplitMix64) -> Batch {
            Batch(events: (0..<count).map { k in
                Event(id: "\(prefix)-\(k)", user: users[Int(generator.next() % UInt64(users.count))], item: "crash-item-\(generator.next() % 300)")
            })
        }
    }

    /// What the clients did, shared between their threads.
    final class Ledger: Sendable {
        struct State {
            var acknowledged: [String: Event] = [:]
            var ackedBatches: [Batch] = []
            /// Per client, the batch sent and not (yet) acknowledged.
            var pending: [Int: Batch] = [:]
            var sent = 0
            var roundAcks = 0
            var stopped = false
            var inFlightAtKills = 0
            var unexpected: [String] = []
        }
        let state = Mutex(State())
    }

    /// Child processes to kill if the test ends early.
    final class Children: Sendable {
        private let processes = Mutex<[Process]>([])
        func add(_ p: Process) { processes.withLock { $0.append(p) } }
        func killAll() {
            for p in processes.withLock({ $0 }) where p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
        }
    }

    /// `starling serve --directory D --port 0 --auto-create-items`, its output in a file.
    struct ServerProcess: @unchecked Sendable {
        let process: Process
        let port: Int
        let outputFile: URL

        static func start(binary: URL, directory: URL, name: String, children: Children) throws -> ServerProcess {
            let outputFile = directory.appendingPathComponent("serve-\(name).out")
            _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
            let output = try FileHandle(forWritingTo: outputFile)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["serve", "--directory", directory.path, "--port", "0", "--auto-create-items"]
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
            children.add(process)
            try? output.close()
            let deadline = Date().addingTimeInterval(60)
            while true {
                let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    let digits = text[range.upperBound...].prefix { $0.isNumber }
                    if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first?.isNewline == true {
                        return ServerProcess(process: process, port: port, outputFile: outputFile)
                    }
                }
                guard process.isRunning, Date() < deadline else {
                    kill(process.processIdentifier, SIGKILL)
                    throw TestError("starling serve did not report its port: \(text.suffix(2000))")
                }
                usleep(10_000)
            }
        }

        func output() -> String { String(((try? String(contentsOf: outputFile, encoding: .utf8)) ?? "").suffix(2000)) }

        /// N of the "opened DIR: N events, …" line the server prints once it has replayed the log.
        var eventsAtStart: Int? {
            let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("opened ") }),
                  let range = line.range(of: #": (\d+) events"#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst(2).prefix { $0.isNumber })
        }

        var termination: String {
            process.isRunning ? "running" : "\(process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(process.terminationStatus)"
        }

        /// Waits up to `seconds` for the process to end; SIGKILLs it after that. True if it ended by itself.
        func wait(seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            guard !process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return false
            }
            process.waitUntilExit()
            return true
        }
    }
}

/// A small seeded generator (SplitMix64), so the events are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A failure of the crash test's machinery (a server that did not start, clients that hung).
struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

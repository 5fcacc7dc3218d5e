import Foundation
import StarlingStream
import Testing

@Suite("Tailing the event log: at-least-once consumers")
struct EventLogConsumerTests {
    static func events(_ range: Range<Int>, user: (Int) -> String = { "u\($0 % 7)" }) -> [LoggedEvent] {
        range.map { LoggedEvent(eventId: "e\($0)", user: user($0), item: "i\($0 % 13)", type: .click, timestamp: 1_700_000_000_000 + Int64($0)) }
    }

    static func folder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("starling-consumer-\(UUID().uuidString)") }

    @Test("in order and complete; unacknowledged events come again after a restart; acknowledged ones never do; new appends are tailed")
    func atLeastOnce() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try DurableEventLog(url: dir.appendingPathComponent("events.log"))
        for b in 0..<10 { try log.append(Self.events((b * 100)..<((b + 1) * 100))) }
        var consumer = try EventLogConsumer(log: log, name: "trainer", directory: dir.appendingPathComponent("consumers"))
        var seen: [String] = []
        for _ in 0..<2 { seen += try consumer.poll(max: 300).map { $0.eventId! } }
        try consumer.acknowledge()
        #expect(seen == (0..<600).map { "e\($0)" })
        // Polled but never acknowledged: a new consumer (a restart) gets them again.
        _ = try consumer.poll(max: 250)
        consumer = try EventLogConsumer(log: log, name: "trainer", directory: dir.appendingPathComponent("consumers"))
        let again = try consumer.poll(max: 250).map { $0.eventId! }
        #expect(again == (600..<850).map { "e\($0)" })
        // A failed batch is rewound and delivered again.
        consumer.rewind()
        #expect(try consumer.poll(max: 10).map { $0.eventId! } == (600..<610).map { "e\($0)" })
        var rest: [String] = []
        while true {
            let batch = try consumer.poll(max: 97)
            if batch.isEmpty { break }
            rest += batch.map { $0.eventId! }
        }
        #expect(rest == (610..<1000).map { "e\($0)" })
        try consumer.acknowledge()
        // Caught up: nothing more until new events arrive, then exactly those, also after a restart.
        #expect(try consumer.poll().isEmpty)
        try log.append(Self.events(1000..<1040))
        consumer = try EventLogConsumer(log: log, name: "trainer", directory: dir.appendingPathComponent("consumers"))
        #expect(try consumer.poll().map { $0.eventId! } == (1000..<1040).map { "e\($0)" })
        // Another consumer keeps its own position.
        let other = try EventLogConsumer(log: log, name: "features", directory: dir.appendingPathComponent("consumers"))
        #expect(try other.poll(max: 5000).count == 1040)
        // Reopening the log (a process restart) keeps positions valid.
        let reopened = try DurableEventLog(url: dir.appendingPathComponent("events.log"))
        try consumer.acknowledge()
        let resumed = try EventLogConsumer(log: reopened, name: "trainer", directory: dir.appendingPathComponent("consumers"))
        try reopened.append(Self.events(1040..<1041))
        #expect(try resumed.poll().map { $0.eventId! } == ["e1040"])
    }

    @Test("a rewrite that removes a user's events restarts delivery from the beginning: repeats, no loss")
    func rewriteRestarts() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try DurableEventLog(url: dir.appendingPathComponent("events.log"))
        try log.append(Self.events(0..<500))
        let consumer = try EventLogConsumer(log: log, name: "trainer", directory: dir)
        #expect(try consumer.poll(max: 400).count == 400)
        try consumer.acknowledge()
        let removed = try log.removeEvents { $0.user == "u3" }
        #expect(removed == 71)
        try log.append(Self.events(500..<510))
        var delivered: [String] = []
        while true {
            let batch = try consumer.poll(max: 128)
            if batch.isEmpty { break }
            delivered += batch.map { $0.eventId! }
        }
        let expected = (0..<510).filter { $0 % 7 != 3 || $0 >= 500 }.map { "e\($0)" }
        #expect(delivered == expected)
    }

    @Test("a damaged checkpoint is an error naming the file; a bad consumer name is refused")
    func badCheckpoint() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try DurableEventLog(url: dir.appendingPathComponent("events.log"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{\"generation\": 1".utf8).write(to: dir.appendingPathComponent("trainer.position.json"))
        do {
            _ = try EventLogConsumer(log: log, name: "trainer", directory: dir)
            Issue.record("a damaged checkpoint was accepted")
        } catch {
            #expect("\(error)".contains("trainer.position.json"))
        }
        #expect(throws: EventLogError.self) { try EventLogConsumer(log: log, name: "../escape", directory: dir) }
    }

    @Test("records larger than the read chunk are delivered whole")
    func largeRecords() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try DurableEventLog(url: dir.appendingPathComponent("events.log"))
        let big = (0..<5).map { k in LoggedEvent(eventId: "big\(k)", user: String(repeating: "u", count: 60_000), item: String(repeating: "i", count: 50_000),
                                                 type: .view, timestamp: Int64(k)) }
        try log.append(big)
        let consumer = try EventLogConsumer(log: log, name: "c", directory: dir)
        #expect(try consumer.poll(max: 10) == big)
    }
}

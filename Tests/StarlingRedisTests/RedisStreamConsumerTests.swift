import Foundation
import StarlingData
import StarlingRedis
import StarlingStream
import Synchronization
import Testing

@Suite("Redis Streams consumer groups")
struct RedisStreamConsumerTests {
    struct Failure: Error {}

    /// `n` events; every other one has an event id of its own.
    static func events(_ n: Int, from start: Int = 0) -> [LoggedEvent] {
        (start..<(start + n)).map { k -> LoggedEvent in
            let id: String? = k % 2 == 0 ? "e\(k)" : nil
            let type: EventType = k % 3 == 0 ? .purchase : .click
            let value = Float(k % 5) + 0.25
            return LoggedEvent(eventId: id, user: "u\(k % 7)", item: "i\(k % 11)", type: type, value: value,
                               timestamp: 1_700_000_000_000 + Int64(k) * 1000)
        }
    }

    static func consumer(_ server: RedisTestServer, name: String = "c1", group: String = "g", count: Int = 100,
                         fromBeginning: Bool = true) throws -> RedisStreamConsumer {
        try RedisStreamConsumer(configuration: .init(port: server.port, key: "events", group: group, consumer: name, count: count,
                                                     block: .milliseconds(50), fromBeginning: fromBeginning))
    }

    /// Entries of `consumer` waiting for acknowledgement.
    static func pending(_ server: RedisTestServer, group: String = "g") throws -> Int {
        Int(try server.connect().command(["XPENDING", "events", group]).array?.first?.integer ?? -1)
    }

    @Test("entries decode into the published events; acknowledged entries are not delivered again")
    func deliveryAndAcknowledgement() throws {
        try RedisTestServer.with { server in
            let publisher = try RedisEventPublisher(port: server.port, key: "events")
            let sent = Self.events(25)
            let ids = try publisher.publish(sent)
            #expect(ids.count == 25 && Set(ids).count == 25)
            let consumer = try Self.consumer(server, count: 10)
            var received: [RedisStreamEntry] = []
            while true {
                let batch = try consumer.processBatch { entries in received += entries; return [] }
                if batch.isEmpty { break }
                #expect(!batch.redelivered && batch.deadLetters.isEmpty && batch.processed.count <= 10)
            }
            #expect(received.map(\.id) == ids)
            // Same events; an event without an id of its own gets the stream entry id.
            var expected = sent
            for k in expected.indices where expected[k].eventId == nil { expected[k].eventId = ids[k] }
            #expect(received.map(\.event) == expected)
            #expect(try Self.pending(server) == 0)
            // A new consumer object with the same name has nothing pending and nothing new.
            let again = try Self.consumer(server, count: 10)
            var more = 0
            #expect(try again.processBatch { more += $0.count; return [] }.isEmpty)
            #expect(more == 0)
            // A group created without "from the beginning" only sees entries added after it.
            let late = try Self.consumer(server, group: "late", fromBeginning: false)
            #expect(try late.processBatch { _ in [] }.isEmpty)
            let newIds = try publisher.publish(Self.events(3, from: 100))
            var seen: [String] = []
            try late.processBatch { seen += $0.map(\.id); return [] }
            #expect(seen == newIds)
        }
    }

    @Test("a handler that throws gets the same entries again; nothing is acknowledged until it succeeds")
    func redeliveryAfterFailure() throws {
        try RedisTestServer.with { server in
            let publisher = try RedisEventPublisher(port: server.port, key: "events")
            let ids = try publisher.publish(Self.events(12))
            let consumer = try Self.consumer(server, count: 5)
            var first: [String] = []
            #expect(throws: Failure.self) {
                try consumer.processBatch { entries in first = entries.map(\.id); throw Failure() }
            }
            #expect(first == Array(ids[0..<5]))
            #expect(try Self.pending(server) == 5)
            // Twice more: the same five each time, marked as redelivered.
            for _ in 0..<2 {
                var again: [String] = []
                #expect(throws: Failure.self) { try consumer.processBatch { entries in again = entries.map(\.id); throw Failure() } }
                #expect(again == first)
            }
            var third: [String] = []
            let batch = try consumer.processBatch { entries in third = entries.map(\.id); return [] }
            #expect(third == first && batch.redelivered && batch.processed == first)
            #expect(try Self.pending(server) == 0)
            // Then the following entries, once each.
            var rest: [String] = []
            while try !consumer.processBatch({ rest += $0.map(\.id); return [] }).isEmpty {}
            #expect(rest == Array(ids[5...]))
        }
    }

    @Test("a consumer that stops without acknowledging gets its pending entries on restart; after acknowledging it resumes after them")
    func restart() throws {
        try RedisTestServer.with { server in
            let publisher = try RedisEventPublisher(port: server.port, key: "events")
            let ids = try publisher.publish(Self.events(10))
            // The first process takes four entries and stops before acknowledging them.
            do {
                let consumer = try Self.consumer(server, name: "worker-1", count: 4)
                #expect(throws: Failure.self) { try consumer.processBatch { _ in throw Failure() } }
            }
            #expect(try Self.pending(server) == 4)
            // Another consumer name in the group does not get them (they are worker-1's)…
            let other = try Self.consumer(server, name: "worker-2", count: 3)
            var otherIds: [String] = []
            try other.processBatch { otherIds = $0.map(\.id); return [] }
            #expect(otherIds == Array(ids[4..<7]))
            // …the restarted worker-1 does, first, then new entries.
            do {
                let consumer = try Self.consumer(server, name: "worker-1", count: 4)
                var got: [String] = []
                let batch = try consumer.processBatch { got = $0.map(\.id); return [] }
                #expect(got == Array(ids[0..<4]) && batch.redelivered)
                try consumer.processBatch { got = $0.map(\.id); return [] }
                #expect(got == Array(ids[7..<10]))
            }
            #expect(try Self.pending(server) == 0)
            // A restart after acknowledging everything resumes after the last acknowledged entry.
            let newIds = try publisher.publish(Self.events(5, from: 10))
            let consumer = try Self.consumer(server, name: "worker-1", count: 100)
            var got: [String] = []
            let batch = try consumer.processBatch { got = $0.map(\.id); return [] }
            #expect(got == newIds && !batch.redelivered)
            #expect(try consumer.processBatch { _ in [] }.isEmpty)
        }
    }

    @Test("two consumers in one group split the entries without duplicates")
    func twoConsumers() throws {
        try RedisTestServer.with { server in
            let ids = try RedisEventPublisher(port: server.port, key: "events").publish(Self.events(200))
            let a = try Self.consumer(server, name: "a", count: 7), b = try Self.consumer(server, name: "b", count: 7)
            var gotA: [String] = [], gotB: [String] = []
            var emptyRounds = 0
            while emptyRounds < 2 {
                let ba = try a.processBatch { gotA += $0.map(\.id); return [] }
                let bb = try b.processBatch { gotB += $0.map(\.id); return [] }
                emptyRounds = ba.isEmpty && bb.isEmpty ? emptyRounds + 1 : 0
            }
            #expect(Set(gotA).isDisjoint(with: gotB))
            #expect((gotA + gotB).sorted() == ids.sorted())
            #expect(gotA.count == gotB.count || abs(gotA.count - gotB.count) <= 7)

            // The same with the two consumers reading at the same time on two threads.
            let more = try RedisEventPublisher(port: server.port, key: "events").publish(Self.events(300, from: 1000))
            let seen = Locked<[String: [String]]>([:])
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                let consumer = k == 0 ? a : b
                var empty = 0
                while empty < 3 {
                    let batch = (try? consumer.processBatch { entries in seen.withLock { $0["\(k)", default: []] += entries.map(\.id) }; return [] })
                    empty = batch?.isEmpty == true ? empty + 1 : 0
                }
            }
            let all = seen.withLock { $0.values.flatMap { $0 } }
            #expect(all.count == 300 && Set(all) == Set(more))
            #expect(try Self.pending(server) == 0)
        }
    }

    @Test("a malformed entry goes to the dead-letter stream with its reason, is acknowledged and blocks nothing")
    func deadLetters() throws {
        try RedisTestServer.with { server in
            let c = try server.connect()
            let publisher = try RedisEventPublisher(port: server.port, key: "events")
            let good1 = try publisher.publish(Self.events(2))
            let bad: [(fields: [[UInt8]], field: String)] = [
                ([Array("item".utf8), Array("i1".utf8)], "user"),
                (["user", "u", "item", "i", "value", "abc"].map { Array($0.utf8) }, "value"),
                (["user", "u", "item", "i", "timestamp", "-5"].map { Array($0.utf8) }, "timestamp"),
                ([Array("user".utf8), [0x75, 0xFF, 0xFE], Array("item".utf8), Array("i".utf8)], "user"),
                (["user", "u", "user", "v", "item", "i"].map { Array($0.utf8) }, "user"),
                (["user", "", "item", "i"].map { Array($0.utf8) }, "user"),
            ]
            var badIds: [String] = []
            for b in bad { badIds.append(try c.command([Array("XADD".utf8), Array("events".utf8), Array("*".utf8)] + b.fields).string!) }
            let good2 = try publisher.publish(Self.events(3, from: 2))
            // An entry the handler refuses (as the service refuses an unknown item) goes there too.
            let refusedId = good2[1]

            let consumer = try Self.consumer(server, count: 100)
            var handled: [String] = []
            let batch = try consumer.processBatch { entries in
                handled += entries.map(\.id)
                return [RedisDeadLetter(entryId: refusedId, field: "item", reason: "item 'i3' does not exist")]
            }
            #expect(handled == good1 + good2)
            #expect(batch.processed == good1 + [good2[0], good2[2]])
            #expect(batch.deadLetters.map(\.entryId) == badIds + [refusedId])
            #expect(batch.deadLetters.map(\.field) == bad.map(\.field) + ["item"])
            #expect(batch.deadLetters[1].reason.contains("abc"))
            #expect(batch.deadLetters[0].description == "stream entry \(badIds[0]): field 'user': missing")
            #expect(try Self.pending(server) == 0)
            #expect(try consumer.processBatch { _ in [] }.isEmpty)

            // The dead-letter stream: the reason, the entry id, the field and the entry's own fields.
            let dead = try c.command(["XRANGE", "events:dead", "-", "+"]).array ?? []
            #expect(dead.count == bad.count + 1)
            var records: [[String: [UInt8]]] = []
            for entry in dead {
                let flat = entry.array?[1].array ?? []
                var record: [String: [UInt8]] = [:]
                for k in stride(from: 0, to: flat.count, by: 2) {
                    if case let .bulk(name) = flat[k], case let .bulk(value) = flat[k + 1] { record[String(decoding: name, as: UTF8.self)] = value }
                }
                records.append(record)
            }
            #expect(records.map { String(decoding: $0["entry_id"] ?? [], as: UTF8.self) } == badIds + [refusedId])
            #expect(records.map { String(decoding: $0["field"] ?? [], as: UTF8.self) } == bad.map(\.field) + ["item"])
            #expect(String(decoding: records[1]["reason"] ?? [], as: UTF8.self) == batch.deadLetters[1].reason)
            #expect(String(decoding: records[1]["entry.value"] ?? [], as: UTF8.self) == "abc")
            #expect(records[3]["entry.user"] == [0x75, 0xFF, 0xFE])
            #expect(String(decoding: records[6]["reason"] ?? [], as: UTF8.self) == "item 'i3' does not exist")
            #expect(String(decoding: records[0]["consumer"] ?? [], as: UTF8.self) == "c1")
        }
    }

    @Test("pending entries deleted from the stream meanwhile are acknowledged without reaching the handler")
    func deletedPending() throws {
        try RedisTestServer.with { server in
            let ids = try RedisEventPublisher(port: server.port, key: "events").publish(Self.events(4))
            let consumer = try Self.consumer(server)
            #expect(throws: Failure.self) { try consumer.processBatch { _ in throw Failure() } }
            try server.connect().command(["XDEL", "events", ids[1]])
            var got: [String] = []
            let batch = try consumer.processBatch { got = $0.map(\.id); return [] }
            #expect(got == [ids[0], ids[2], ids[3]] && batch.deleted == 1 && batch.redelivered)
            #expect(try Self.pending(server) == 0)
        }
    }

    @Test("the runner retries failed batches, survives a deleted group and stops promptly")
    func runner() throws {
        try RedisTestServer.with { server in
            let publisher = try RedisEventPublisher(port: server.port, key: "events")
            let sent = try publisher.publish(Self.events(30))
            let consumer = try Self.consumer(server, count: 8)
            let state = Locked<(calls: Int, ids: [String], failures: [String])>((0, [], []))
            let runner = RedisStreamRunner(consumer: consumer, handler: { entries in
                let fail = state.withLock { s -> Bool in
                    s.calls += 1
                    if s.calls % 3 == 1 { return true }
                    s.ids += entries.map(\.id)
                    return false
                }
                if fail { throw Failure() }
                return []
            }, onEvent: { event in
                if case let .failed(description, _) = event { state.withLock { $0.failures.append(description) } }
            })
            func waitFor(_ n: Int) {
                let deadline = Date().addingTimeInterval(20)
                while state.withLock({ $0.ids.count }) < n && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            }
            waitFor(30)
            #expect(state.withLock { $0.ids } == sent)
            #expect(runner.failures >= 2 && state.withLock { $0.failures.count } == runner.failures)
            // The group is deleted under the running consumer: it is created again (from the
            // beginning, as configured) and the loop goes on.
            try server.connect().command(["XGROUP", "DESTROY", "events", "g"])
            let more = try publisher.publish(Self.events(5, from: 30))
            waitFor(65)
            #expect(Set(state.withLock { $0.ids }).isSuperset(of: more))
            let started = Date()
            runner.stop()
            #expect(Date().timeIntervalSince(started) < 2)
            runner.stop()
        }
    }
}

import Foundation
import StarlingData
import Testing
import StarlingStream

@Suite("Durable event log")
struct DurableEventLogTests {
    static func temporaryLog() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("starling-log-\(UUID().uuidString)/events.log")
    }

    static func event(_ k: Int, id: Bool = true) -> LoggedEvent {
        LoggedEvent(eventId: id ? "e\(k)" : nil, user: "user-\(k % 7)", item: "item-ü-\(k % 13)", type: k % 2 == 0 ? .click : .purchase,
                    value: Float(k) / 4, timestamp: 1_700_000_000_000 + Int64(k))
    }

    @Test func appendsSurviveReopeningInOrder() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let written = (0..<500).map { Self.event($0, id: $0 % 3 != 0) }
        do {
            let log = try DurableEventLog(url: url)
            for chunk in stride(from: 0, to: 500, by: 50) { try log.append(Array(written[chunk..<(chunk + 50)])) }
            #expect(log.eventCount == 500)
        }
        let reopened = try DurableEventLog(url: url)
        #expect(reopened.truncatedBytes == 0)
        #expect(try reopened.events() == written)
    }

    @Test func eventIdsMakeResendingHarmless() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let log = try DurableEventLog(url: url)
        #expect(try log.append([Self.event(1), Self.event(2)]) == 2)
        #expect(try log.append([Self.event(2), Self.event(3), Self.event(3)]) == 1)
        #expect(try log.append([Self.event(4, id: false), Self.event(4, id: false)]) == 2)  // no id: both kept
        #expect(log.eventCount == 5)
        let reopened = try DurableEventLog(url: url)
        #expect(try reopened.append([Self.event(1)]) == 0)  // ids are remembered across restarts
    }

    @Test func aTornFinalRecordIsDroppedAndTheLogGoesOn() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try DurableEventLog(url: url).append((0..<10).map { Self.event($0) })
        let full = try Data(contentsOf: url)
        for cut in [1, 5, 9, 20] {
            try full.prefix(full.count - cut).write(to: url)
            let log = try DurableEventLog(url: url)
            #expect(log.eventCount == 9)
            #expect(log.truncatedBytes == (try DurableEventLogTests.lastRecordSize(full)) - cut)
            try log.append([Self.event(100)])
            #expect(try log.events().map(\.eventId) == (0..<9).map { "e\($0)" } + ["e100"])
        }
    }

    static func lastRecordSize(_ data: Data) throws -> Int {
        var offset = 0, last = 0
        while offset < data.count {
            let length = Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16 | Int(data[offset + 3]) << 24
            last = 8 + length
            offset += last
        }
        return last
    }

    @Test func corruptionInTheMiddleIsAnErrorUnlessRepairing() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try DurableEventLog(url: url).append((0..<10).map { Self.event($0) })
        var data = try Data(contentsOf: url)
        data[20] ^= 0xFF  // inside the first record's body
        try data.write(to: url)
        #expect { try DurableEventLog(url: url) } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("byte 0") && "\(error)".contains("checksum")
        }
        let repaired = try DurableEventLog(url: url, repair: true)
        #expect(repaired.eventCount == 0)
    }

    @Test func concurrentAppendersShareSyncsAndLoseNothing() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let log = try DurableEventLog(url: url)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for b in 0..<25 { _ = try? log.append((0..<4).map { Self.event(worker * 1_000 + b * 4 + $0) }) }
        }
        #expect(log.eventCount == 800)
        let ids = Set(try DurableEventLog(url: url).events().compactMap(\.eventId))
        #expect(ids.count == 800)
    }

    @Test func theLogBecomesADatasetForRetraining() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let log = try DurableEventLog(url: url)
        try log.append((0..<100).map { Self.event($0) })
        let data = try log.dataset(name: "live")
        #expect(data.eventCount == 100 && data.userCount == 7 && data.itemCount == 13)
        #expect(data.users.id(at: 0) == "user-0" && data.items.id(at: 1) == "item-ü-1")
        let purchases = data.interactionMatrix(types: [.purchase], value: .one, duplicates: .sum)
        #expect(purchases.count > 0 && purchases.values!.reduce(0, +) == 50)  // the odd-numbered events
        #expect(data.events.timestamps?.first == 1_700_000_000)
    }

    @Test func badEventsAreRejectedWithAClearMessage() throws {
        let url = Self.temporaryLog()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let log = try DurableEventLog(url: url)
        #expect(throws: EventLogError.self) { try log.append([LoggedEvent(user: "", item: "i", type: .view, timestamp: 0)]) }
        #expect(throws: EventLogError.self) { try log.append([LoggedEvent(user: "u", item: "i", type: .view, value: .nan, timestamp: 0)]) }
        #expect(log.eventCount == 0)
    }
}

import Foundation
import StarlingStream
import StarlingTestSupport
import Testing

/// SIGKILL during ingestion: every event the writer saw acknowledged is in the log afterwards.
@Suite("Event log crash safety")
struct EventLogCrashTests {
    @Test func killedWriterLosesNoAcknowledgedEvent() throws {
        let binary = StarlingExecutable.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("events.log")
        var acknowledged = 0
        for round in 0..<3 {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["debug-append-events", "--log", log.path, "--batches", "100000", "--batch-size", "7"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            // Read acknowledgements until 40 more have arrived, then kill the writer mid-stream.
            var buffer = Data(), seen = 0
            while seen < 40 {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
                seen = lines.count
                if let last = lines.last(where: { $0.hasPrefix("acked ") }), let n = Int(last.dropFirst(6)) { acknowledged = max(acknowledged, n) }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "round \(round)")
            let reopened = try DurableEventLog(url: log)
            #expect(reopened.eventCount >= acknowledged, "round \(round): \(reopened.eventCount) stored, \(acknowledged) acknowledged")
            let ids = Set(try reopened.events().compactMap(\.eventId))
            #expect((0..<acknowledged).allSatisfy { ids.contains("e\($0)") })
        }
        #expect(acknowledged >= 3 * 40 * 7)
    }
}


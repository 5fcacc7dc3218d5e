import ArgumentParser
import Foundation
import StarlingStream

/// `starling debug-append-events`: appends numbered events to a log and prints each
/// acknowledgement — the crash test kills it mid-stream and checks that every acknowledged event
/// survived.
struct DebugAppendEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-append-events", abstract: "Append numbered test events to an event log, printing each acknowledgement.",
        shouldDisplay: false)

    @Option(help: "The event log file.") var log: String
    @Option(help: "Batches to append.") var batches = 1_000
    @Option(help: "Events per batch.") var batchSize = 10

    func run() throws {
        let events = try DurableEventLog(url: URL(fileURLWithPath: log))
        var next = events.eventCount
        for _ in 0..<batches {
            let batch = (0..<batchSize).map { k in
                LoggedEvent(eventId: "e\(next + k)", user: "u\((next + k) % 97)", item: "i\((next + k) % 1009)", type: .click,
                            timestamp: Int64(1_700_000_000_000 + next + k))
            }
            try events.append(batch)
            next += batchSize
            FileHandle.standardOutput.write(Data("acked \(next)\n".utf8))
        }
    }
}

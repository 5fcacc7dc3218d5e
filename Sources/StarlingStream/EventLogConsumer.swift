import Foundation

/// Tails a ``DurableEventLog`` for one named consumer with at-least-once delivery: `poll` hands out
/// the next events after the last acknowledged position, `acknowledge` records (durably) that
/// everything polled so far is processed. A consumer that stops before acknowledging — a crash, a
/// failed batch — gets the same events again from its last acknowledged position; one that
/// acknowledged resumes right after it, also across restarts. If the log was rewritten since (a
/// user's events removed), delivery restarts from the beginning: events may repeat, none is lost.
public final class EventLogConsumer {
    public let name: String
    public let log: DurableEventLog
    /// The checkpoint file (JSON position), written atomically on every acknowledgement.
    public let checkpoint: URL
    /// The position after the last acknowledged event (nil: nothing acknowledged yet).
    public private(set) var acknowledged: LogPosition?
    /// The position after the last polled event.
    private var polled: LogPosition?

    /// A consumer called `name` whose checkpoint lives in `directory` (created if needed).
    public init(log: DurableEventLog, name: String, directory: URL) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw EventLogError.invalidEvent("consumer name '\(name)' must be letters, digits, '-' or '_'")
        }
        self.name = name
        self.log = log
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        checkpoint = directory.appendingPathComponent("\(name).position.json")
        if FileManager.default.fileExists(atPath: checkpoint.path) {
            do { acknowledged = try JSONDecoder().decode(LogPosition.self, from: Data(contentsOf: checkpoint)) } catch {
                throw EventLogError.corrupt(path: checkpoint.path, offset: 0, reason: "unreadable consumer checkpoint: \(error)")
            }
        }
        polled = acknowledged
    }

    /// The next events (at most `max`) after those already polled; empty when the consumer has
    /// caught up with the log.
    public func poll(max: Int = 1000) throws -> [LoggedEvent] {
        let (events, next) = try log.read(after: polled, max: max)
        polled = next
        return events
    }

    /// Records that every polled event is processed; returns once the checkpoint is on disk.
    public func acknowledge() throws {
        guard let polled, polled != acknowledged else { return }
        let data = try JSONEncoder().encode(polled)
        let tmp = checkpoint.appendingPathExtension("tmp")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EventLogError.io(path: tmp.path, operation: "open", errno: errno) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0 else { throw EventLogError.io(path: tmp.path, operation: "write", errno: errno) }
        guard rename(tmp.path, checkpoint.path) == 0 else { throw EventLogError.io(path: checkpoint.path, operation: "rename", errno: errno) }
        let dir = open(checkpoint.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
        acknowledged = polled
    }

    /// Forgets what was polled but not acknowledged: the next poll starts again from the last
    /// acknowledged position (for a batch whose processing failed).
    public func rewind() { polled = acknowledged }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Errors of the event log, naming the file.
public enum EventLogError: Error, CustomStringConvertible, Equatable {
    case io(path: String, operation: String, errno: Int32)
    case corrupt(path: String, offset: Int, reason: String)
    case closedAfterFailure(path: String)
    case invalidEvent(String)

    public var description: String {
        switch self {
        case let .io(path, operation, code): return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        case let .corrupt(path, offset, reason):
            return "\(path): corrupt record at byte \(offset) (\(reason)); open with repair: true to drop it and everything after it"
        case let .closedAfterFailure(path): return "\(path): an earlier write failed; the log refuses appends until it is reopened"
        case let .invalidEvent(reason): return reason
        }
    }
}

/// An append-only file of events, each acknowledged only once it is on disk.
///
/// Records are `[length: u32][crc32c: u32][body]` (little-endian). ``append(_:)`` returns only after
/// the record is written and `fdatasync`ed; concurrent appenders share one sync (group commit):
/// the first waiting appender writes everything queued so far and syncs once, the others wait for
/// it. Opening replays the file: a record cut off at the end (a crash mid-write) is truncated
/// away, since it was never acknowledged; a bad record followed by good data is corruption and
/// an error unless `repair` is set. Event ids make re-sent events harmless: an event whose id is
/// already in the log is acknowledged without being stored again.
public final class DurableEventLog: @unchecked Sendable {
    public let path: String
    /// Replaced only by ``removeEvents(where:)``, while it holds the write turn.
    private var fd: Int32
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queued = Data()
    private var queuedTickets = 0
    private var issuedTickets = 0
    private var durableTickets = 0
    private var writing = false
    private var failed = false
    private var seenIds: Set<String> = []
    private var count = 0
    private var fileSize = 0
    /// Bytes dropped from the end when the log was opened (a torn final record).
    public let truncatedBytes: Int

    /// Opens (creating if needed) the log at `url` and recovers its contents.
    public init(url: URL, repair: Bool = false) throws {
        path = url.path
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EventLogError.io(path: url.path, operation: "open", errno: errno) }
        var dropped = 0
        do {
            let data = try Data(contentsOf: url)
            var ids: Set<String> = []
            let (good, n, problem) = Self.scan(data) { event in if let id = event.eventId { ids.insert(id) } }
            if let problem {
                if good + problem.recordEnd < data.count && !repair && problem.reason != "cut off" {
                    close(fd)
                    throw EventLogError.corrupt(path: path, offset: good, reason: problem.reason)
                }
                guard ftruncate(fd, off_t(good)) == 0 else { throw EventLogError.io(path: path, operation: "truncate", errno: errno) }
                guard fsync(fd) == 0 else { throw EventLogError.io(path: path, operation: "fsync", errno: errno) }
                dropped = data.count - good
            }
            seenIds = ids
            count = n
            fileSize = good
        } catch let error as EventLogError {
            throw error
        } catch {
            close(fd)
            throw EventLogError.io(path: path, operation: "read", errno: EIO)
        }
        truncatedBytes = dropped
    }

    deinit { close(fd) }

    /// Events stored.
    public var eventCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// Appends `events` durably; returns how many were new (events whose id the log already holds
    /// are skipped). Returns only after they — and everything appended before them — are on disk.
    @discardableResult
    public func append(_ events: [LoggedEvent]) throws -> Int { try appendNew(events).count }

    /// Appends `events` durably like ``append(_:)``; returns the positions in `events` of those
    /// that were new, so a caller applies each event once even when a client re-sends a batch.
    public func appendNew(_ events: [LoggedEvent]) throws -> [Int] {
        for e in events {
            guard !e.user.isEmpty, !e.item.isEmpty, !e.type.rawValue.isEmpty else {
                throw EventLogError.invalidEvent("event \(e.eventId ?? "") needs a user, an item and a type")
            }
            guard e.value.isFinite else { throw EventLogError.invalidEvent("event \(e.eventId ?? ""): value is not finite") }
            guard [e.user, e.item, e.type.rawValue, e.eventId ?? ""].allSatisfy({ $0.utf8.count <= Int(UInt16.max) }) else {
                throw EventLogError.invalidEvent("event \(e.eventId ?? ""): an id is longer than 65,535 bytes")
            }
        }
        condition.lock()
        defer { condition.unlock() }
        guard !failed else { throw EventLogError.closedAfterFailure(path: path) }
        var added: [Int] = []
        added.reserveCapacity(events.count)
        for (k, e) in events.enumerated() {
            if let id = e.eventId, !seenIds.insert(id).inserted { continue }
            Self.appendRecord(e, to: &queued)
            added.append(k)
        }
        count += added.count
        issuedTickets += 1
        let ticket = issuedTickets
        queuedTickets = ticket
        while durableTickets < ticket {
            if failed { throw EventLogError.closedAfterFailure(path: path) }
            if writing {
                condition.wait()
                continue
            }
            // Lead a group commit: everything queued so far, one sync.
            writing = true
            let batch = queued, last = queuedTickets
            queued = Data()
            condition.unlock()
            let error = write(batch)
            condition.lock()
            writing = false
            if let error {
                failed = true
                condition.broadcast()
                throw error
            }
            fileSize += batch.count
            durableTickets = last
            condition.broadcast()
        }
        return added
    }

    private func write(_ data: Data) -> EventLogError? {
        var error: EventLogError?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Self.systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    error = .io(path: path, operation: "write", errno: errno)
                    return
                }
                offset += n
            }
        }
        if error == nil && Self.syncData(fd) != 0 { error = .io(path: path, operation: "fdatasync", errno: errno) }
        return error
    }

    private static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, p, n)
        #else
        Darwin.write(fd, p, n)
        #endif
    }

    private static func syncData(_ fd: Int32) -> Int32 {
        #if os(Linux)
        fdatasync(fd)
        #else
        fsync(fd)
        #endif
    }

    /// Rewrites the log without the events matching `isRemoved` (a deleted user's events, for
    /// privacy); returns how many were removed. The new file is written beside the old one, synced
    /// and renamed over it, so a crash leaves one or the other. Appends wait while it runs.
    @discardableResult
    public func removeEvents(where isRemoved: (LoggedEvent) -> Bool) throws -> Int {
        condition.lock()
        while writing || !queued.isEmpty { condition.wait() }
        guard !failed else { condition.unlock(); throw EventLogError.closedAfterFailure(path: path) }
        writing = true  // holds the write turn: appenders queue and wait
        let size = fileSize
        condition.unlock()
        var removed = 0, kept = 0, ids: Set<String> = []
        var result: Result<Int, EventLogError>
        do {
            let old = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(size)
            var fresh = Data()
            _ = Self.scan(Data(old)) { event in
                if isRemoved(event) { removed += 1; return }
                kept += 1
                if let id = event.eventId { ids.insert(id) }
                Self.appendRecord(event, to: &fresh)
            }
            result = .success(fresh.count)
            if removed > 0 {
                let tmp = path + ".rewrite"
                let newFd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
                if newFd < 0 {
                    result = .failure(.io(path: tmp, operation: "open", errno: errno))
                } else {
                    let oldFd = fd
                    fd = newFd
                    if let error = write(fresh) {
                        fd = oldFd
                        close(newFd)
                        result = .failure(error)
                    } else if rename(tmp, path) != 0 {
                        fd = oldFd
                        close(newFd)
                        result = .failure(.io(path: path, operation: "rename", errno: errno))
                    } else {
                        close(oldFd)
                        Self.syncDirectory(of: path)
                    }
                }
            }
        } catch {
            result = .failure(.io(path: path, operation: "read", errno: EIO))
        }
        condition.lock()
        writing = false
        if case let .success(newSize) = result, removed > 0 {
            fileSize = newSize
            count = kept
            seenIds = ids
        }
        condition.broadcast()
        condition.unlock()
        if case let .failure(error) = result { throw error }
        return removed
    }

    private static func syncDirectory(of path: String) {
        let dir = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// Appends `event`'s record (header and body) to `data`.
    static func appendRecord(_ event: LoggedEvent, to data: inout Data) {
        var body = Data()
        event.encoded(into: &body)
        var header = Data(count: 8)
        let crc = body.withUnsafeBytes { CRC32C.checksum($0) }
        header.withUnsafeMutableBytes { h in
            h.storeBytes(of: UInt32(body.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            h.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
        data.append(header)
        data.append(body)
    }

    /// The version of the file: its inode, which a rewrite by ``removeEvents(where:)`` changes.
    private static func inode(_ fd: Int32) -> UInt64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? UInt64(info.st_ino) : 0
    }

    /// Up to `max` durable events after `position`, and the position after them. From the start
    /// when `position` is nil or belongs to a file the log has since rewritten (so a reader may
    /// see events again, never miss one). Only events on disk are returned: a reader never sees
    /// an append before it is acknowledged.
    public func read(after position: LogPosition?, max: Int) throws -> (events: [LoggedEvent], next: LogPosition) {
        precondition(max > 0)
        condition.lock()
        let size = fileSize, generation = Self.inode(fd)
        // A duplicate keeps reading the same file even if a rewrite renames a new one over it.
        let reader = dup(fd)
        condition.unlock()
        guard reader >= 0 else { throw EventLogError.io(path: path, operation: "dup", errno: errno) }
        defer { close(reader) }
        var offset = 0
        if let position, position.generation == generation, position.offset <= size { offset = position.offset }
        var events: [LoggedEvent] = []
        var chunk = 1 << 16
        while events.count < max && offset < size {
            let want = min(chunk, size - offset)
            var buffer = Data(count: want)
            let got = buffer.withUnsafeMutableBytes { pread(reader, $0.baseAddress!, want, off_t(offset)) }
            guard got == want else { throw EventLogError.io(path: path, operation: "pread", errno: got < 0 ? errno : EIO) }
            let (good, n, problem) = Self.scan(buffer, limit: max - events.count) { events.append($0) }
            offset += good
            if n == 0, let problem {
                // A record longer than the chunk: read more at once. Anything else inside the
                // durable size is damage.
                guard problem.reason == "cut off", want < size - (offset - good) else {
                    throw EventLogError.corrupt(path: path, offset: offset, reason: problem.reason)
                }
                chunk *= 4
            }
        }
        return (events, LogPosition(generation: generation, offset: offset))
    }

    /// Every stored event, in append order.
    public func events() throws -> [LoggedEvent] {
        condition.lock()
        let size = fileSize
        condition.unlock()
        let data = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(size)
        var out: [LoggedEvent] = []
        _ = Self.scan(Data(data)) { out.append($0) }
        return out
    }

    /// Walks the records of `data`, calling `body` for each good one. Returns the byte length of the
    /// good prefix, the number of good records, and the first problem (with the bad record's end).
    /// Stops after `limit` records.
    static func scan(_ data: Data, limit: Int = .max, _ body: (LoggedEvent) -> Void) -> (Int, Int, (reason: String, recordEnd: Int)?) {
        data.withUnsafeBytes { raw -> (Int, Int, (reason: String, recordEnd: Int)?) in
            var offset = 0, n = 0
            while offset < raw.count && n < limit {
                guard offset + 8 <= raw.count else { return (offset, n, ("cut off", raw.count - offset)) }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                guard offset + 8 + length <= raw.count else { return (offset, n, ("cut off", raw.count - offset)) }
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + 8 + length)])
                guard CRC32C.checksum(bytes) == crc else { return (offset, n, ("checksum mismatch", 8 + length)) }
                guard let event = LoggedEvent.decode(bytes) else { return (offset, n, ("undecodable body", 8 + length)) }
                body(event)
                n += 1
                offset += 8 + length
            }
            return (offset, n, nil)
        }
    }
}

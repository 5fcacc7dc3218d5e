import Dispatch
import Foundation

/// Runs work on several cores.
public enum Parallel {
    /// The number of cores this process may use (the `STARLING_THREADS` environment variable
    /// overrides it).
    public static var coreCount: Int {
        if let s = ProcessInfo.processInfo.environment["STARLING_THREADS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Calls `body(i)` for `i` in `0..<count` concurrently and returns when all have finished.
    /// Results must go to disjoint places; the call order is unspecified, so reduce afterwards in
    /// index order for deterministic results.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if count == 1 { body(0); return }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// `body(i)` for each `i` concurrently, results in index order.
    public static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let results = ResultSlots<T>(count: count)
        forEach(count) { i in results.set(i, body(i)) }
        return results.values
    }

    /// `body(i)` for `i` in `0..<count` on at most `threads` workers (each takes indices in turn),
    /// results in index order. For many uneven tasks: workers pull the next index from a shared counter.
    public static func mapInOrder<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let results = ResultSlots<T>(count: count)
        let next = Counter()
        forEach(Swift.max(1, Swift.min(threads, count))) { _ in
            while true {
                let i = next.increment()
                if i >= count { break }
                results.set(i, body(i))
            }
        }
        return results.values
    }

    /// Splits `0..<total` into `parts` contiguous ranges whose sizes differ by at most one.
    public static func ranges(_ total: Int, parts: Int) -> [Range<Int>] {
        let p = Swift.max(1, Swift.min(parts, Swift.max(total, 1)))
        return (0..<p).map { i in (total * i / p)..<(total * (i + 1) / p) }
    }
}

/// A shared counter handing out increasing integers to concurrent workers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = -1
    func increment() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Write-once slots filled by concurrent workers, each at its own index. A raw buffer, so that
/// concurrent writes to different slots never touch shared bookkeeping (as an array's would).
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<T?>
    private let count: Int
    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: Swift.max(count, 1))
        storage.initialize(repeating: nil, count: count)
    }
    func set(_ i: Int, _ value: T) { storage[i] = value }
    var values: [T] { (0..<count).map { storage[$0]! } }
    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }
}

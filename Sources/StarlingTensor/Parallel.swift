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

    /// Splits `0..<total` into `parts` contiguous ranges whose sizes differ by at most one.
    public static func ranges(_ total: Int, parts: Int) -> [Range<Int>] {
        let p = Swift.max(1, Swift.min(parts, Swift.max(total, 1)))
        return (0..<p).map { i in (total * i / p)..<(total * (i + 1) / p) }
    }
}

/// Write-once slots filled by concurrent workers, each at its own index.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var storage: [T?]
    init(count: Int) { storage = [T?](repeating: nil, count: count) }
    // Each index is written by exactly one worker; the array itself is never resized.
    func set(_ i: Int, _ value: T) { storage.withUnsafeMutableBufferPointer { $0[i] = value } }
    var values: [T] { storage.map { $0! } }
}

import Foundation
import Synchronization

/// Blocking work on threads of its own, away from the two cooperative threads that the
/// in-process servers answer on (a blocking HTTP client there would stall its own server).
enum Threads {
    /// Runs `body(0..<count)` on `count` new threads at once and returns the results in order.
    static func run<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        let results = Mutex<[T?]>(Array(repeating: nil, count: count))
        let group = DispatchGroup()
        for k in 0..<count {
            group.enter()
            let thread = Thread {
                let value = body(k)
                results.withLock { $0[k] = value }
                group.leave()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        group.wait()
        return results.withLock { $0.map { $0! } }
    }

    /// Runs `body` on a thread of its own and waits for it without holding a cooperative thread.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// ``offThread(_:)`` for work that cannot fail.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }
}

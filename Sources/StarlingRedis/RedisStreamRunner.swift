import Foundation
import Synchronization

/// Runs a ``RedisStreamConsumer`` on a thread of its own until ``stop()``: batch after batch into
/// `handler`. A failure — Redis unreachable, the handler throwing — is reported to `onEvent` and
/// retried after a pause (0.1 s, doubling up to 5 s while failures repeat); it never ends the loop.
public final class RedisStreamRunner: Sendable {
    /// What the runner reports.
    public enum Event: Sendable {
        /// A batch that did something (empty reads are not reported).
        case batch(RedisStreamConsumer.Batch)
        /// A batch failed; the next attempt comes after `retryIn`.
        case failed(description: String, retryIn: Duration)
    }

    public let consumer: RedisStreamConsumer
    /// What the thread shares with the runner (the thread does not hold the runner, so dropping
    /// the runner stops it).
    private final class Control: Sendable {
        let stopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        let stopped = Mutex<Bool>(false)
        let batches = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
    }
    private let control = Control()

    /// Starts the thread. `handler` is the consumer's batch handler; `onEvent` is called on the
    /// runner's thread.
    public init(consumer: RedisStreamConsumer, handler: @escaping @Sendable ([RedisStreamEntry]) throws -> [RedisDeadLetter],
                onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.consumer = consumer
        let control = self.control
        let thread = Thread {
            var pause = Duration.milliseconds(100)
            while !control.stopping.load(ordering: .acquiring) {
                do {
                    let batch = try consumer.processBatch(handler)
                    pause = .milliseconds(100)
                    if !batch.isEmpty {
                        control.batches.add(1, ordering: .relaxed)
                        onEvent(.batch(batch))
                    }
                } catch {
                    control.failures.add(1, ordering: .relaxed)
                    onEvent(.failed(description: "\(error)", retryIn: pause))
                    // Sleep in short steps so that stop() is not kept waiting.
                    let until = ContinuousClock.now + pause
                    while ContinuousClock.now < until && !control.stopping.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.02) }
                    pause = min(pause * 2, .seconds(5))
                }
            }
            control.finished.signal()
        }
        thread.name = "redis-stream-\(consumer.configuration.key)"
        thread.start()
    }

    /// Batches that did something so far.
    public var batches: Int { control.batches.load(ordering: .relaxed) }
    /// Failed batches so far.
    public var failures: Int { control.failures.load(ordering: .relaxed) }

    /// Asks the loop to end and waits for it: the batch in progress finishes (a read waits at
    /// most the consumer's `block` time). Calling it again returns at once.
    public func stop() {
        control.stopping.store(true, ordering: .releasing)
        control.stopped.withLock { done in
            guard !done else { return }
            control.finished.wait()
            done = true
        }
    }

    deinit { stop() }
}

/// A sum over a sliding window of event time, kept in `bucketCount` time buckets: adding is O(1)
/// and reading O(buckets), whatever the event rate. The window's far edge moves a bucket at a
/// time, so a read at time t covers the buckets (t's bucket − bucketCount, t's bucket]: events
/// between W − W/bucketCount and W old at the far edge count, events older than W never do.
/// Events may arrive out of order as long as they fall inside the window of the newest one.
struct SlidingWindowSum: Sendable, Equatable {
    private var slots: [Float]
    /// Absolute index (time / bucketMs) of the newest bucket; `Int64.min` while empty.
    private(set) var newest = Int64.min
    let bucketMs: Int64

    init(windowMs: Int64, buckets: Int) {
        precondition(windowMs > 0 && buckets > 0)
        slots = [Float](repeating: 0, count: buckets)
        bucketMs = max(1, (windowMs + Int64(buckets) - 1) / Int64(buckets))
    }

    private var bucketCount: Int64 { Int64(slots.count) }

    private func bucket(_ t: Int64) -> Int64 { t >= 0 ? t / bucketMs : (t - bucketMs + 1) / bucketMs }

    private func slot(_ b: Int64) -> Int { Int(((b % bucketCount) + bucketCount) % bucketCount) }

    /// Adds `value` at time `t`; false (nothing added) when `t` is older than the window of the
    /// newest event seen.
    @discardableResult
    mutating func add(_ value: Float, atMs t: Int64) -> Bool {
        let b = bucket(t)
        if newest == Int64.min || b >= newest + bucketCount {
            for i in slots.indices { slots[i] = 0 }
            newest = b
        } else if b > newest {
            var j = newest + 1
            while j <= b { slots[slot(j)] = 0; j += 1 }
            newest = b
        } else if b <= newest - bucketCount {
            return false
        }
        slots[slot(b)] += value
        return true
    }

    /// The sum over the window ending at time `t`.
    func value(atMs t: Int64) -> Float {
        guard newest != Int64.min else { return 0 }
        let tb = bucket(t)
        var sum: Float = 0
        var j = newest
        while j > newest - bucketCount {
            if j <= tb && j > tb - bucketCount { sum += slots[slot(j)] }
            j -= 1
        }
        return sum
    }

    /// Whether nothing in it can count at time `t` or later.
    func isExpired(atMs t: Int64) -> Bool { newest == Int64.min || newest <= bucket(t) - bucketCount }
}

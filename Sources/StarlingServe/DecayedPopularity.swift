import Foundation
import StarlingTensor

/// Item popularity with exponential time decay: each event adds its weight, and weights halve
/// every `halfLife` of event time. Time is the newest event's timestamp, not the wall clock, so a
/// replayed historical log ranks as it did then.
///
/// Scores are kept at a reference time and decayed on read: `score(t) = raw · 2^((tRef − t)/h)`
/// for every item at once, so an event costs O(1); the reference moves forward (rescaling all raw
/// scores) when the factor would grow too large for `Float`.
struct DecayedPopularity: Sendable {
    let halfLifeMs: Double
    private(set) var raw: [Float] = []
    private var referenceMs: Int64 = 0
    private(set) var latestMs: Int64 = 0

    init(halfLifeMs: Double) { self.halfLifeMs = halfLifeMs }

    mutating func add(item: Int32, weight: Float, timestampMs: Int64) {
        let i = Int(item)
        if i >= raw.count { raw.append(contentsOf: repeatElement(0, count: i + 1 - raw.count)) }
        if latestMs == 0 && referenceMs == 0 { referenceMs = timestampMs }
        latestMs = max(latestMs, timestampMs)
        var growth = Float(exp2(Double(timestampMs - referenceMs) / halfLifeMs))
        if growth > 1e12 {
            // Move the reference to now: every raw score shrinks by the same factor.
            let scale = 1 / growth
            for k in raw.indices { raw[k] *= scale }
            referenceMs = timestampMs
            growth = 1
        }
        raw[i] += weight * growth
    }

    /// The top `count` items by decayed score (the decay factor is common to all, so the raw
    /// order is the order), with scores decayed to the newest event's time.
    func top(_ count: Int) -> [TopK.Entry] {
        guard !raw.isEmpty else { return [] }
        let factor = Float(exp2(Double(referenceMs - latestMs) / halfLifeMs))
        let best = raw.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: raw.count, k: min(count, raw.count)) }
        return best.filter { $0.score > 0 }.map { TopK.Entry(index: $0.index, score: $0.score * factor) }
    }

    /// Item `item`'s decayed score.
    func score(_ item: Int32) -> Float {
        let i = Int(item)
        guard i < raw.count else { return 0 }
        return raw[i] * Float(exp2(Double(referenceMs - latestMs) / halfLifeMs))
    }
}

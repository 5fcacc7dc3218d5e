import CIntrinsics
import StarlingTensor

/// Scores stored slots against a prepared query (specialised per storage, no dynamic dispatch).
protocol SlotScorer {
    func score(_ q: UnsafePointer<Float>, _ slot: Int32) -> Float
    func prefetch(_ slot: Int32)
    /// The scorer for a query that is the stored vector of `slot` (adds its augmentation, if any).
    func anchored(at slot: Int32) -> Self
}

extension SlotScorer {
    @inline(__always) func anchored(at slot: Int32) -> Self { self }
}

/// Inner product search reduced to cosine for building the graph (Bachrach et al. 2014): every
/// stored vector gets an extra coordinate `√(B² − ‖x‖²)` (B bounds the norms), so all augmented
/// vectors have norm B and the largest augmented inner product is the nearest neighbour. Queries
/// carry 0 there, so their scores are the plain inner products; only construction (stored vector
/// against stored vector) adds `e_a · e_b`.
struct AugmentedScorer<Base: SlotScorer>: SlotScorer {
    let base: Base
    let extra: UnsafePointer<Float>
    let queryExtra: Float
    @inline(__always) func score(_ q: UnsafePointer<Float>, _ slot: Int32) -> Float {
        base.score(q, slot) + queryExtra * extra[Int(slot)]
    }
    @inline(__always) func prefetch(_ slot: Int32) { base.prefetch(slot) }
    @inline(__always) func anchored(at slot: Int32) -> AugmentedScorer { AugmentedScorer(base: base, extra: extra, queryExtra: extra[Int(slot)]) }
}

/// Exact scores from float rows.
struct FloatScorer: SlotScorer {
    let base: UnsafePointer<Float>
    let d: Int
    @inline(__always) func score(_ q: UnsafePointer<Float>, _ slot: Int32) -> Float { VectorKernels.dot(q, base + Int(slot) * d, d) }
    @inline(__always) func prefetch(_ slot: Int32) {
        let p = base + Int(slot) * d
        var o = 0
        while o < d {
            starling_prefetch(p + o)
            o += 16
        }
    }
}

/// Approximate scores from int8 codes and per-vector scales.
struct CodeScorer: SlotScorer {
    let codes: UnsafePointer<Int8>
    let scales: UnsafePointer<Float>
    let d: Int
    @inline(__always) func score(_ q: UnsafePointer<Float>, _ slot: Int32) -> Float {
        scales[Int(slot)] * ScalarQuantizer.dot(q, codes + Int(slot) * d, d)
    }
    @inline(__always) func prefetch(_ slot: Int32) {
        let p = codes + Int(slot) * d
        var o = 0
        while o < d {
            starling_prefetch(p + o)
            o += 64
        }
    }
}

/// Which slots may enter a search's results (all slots route).
protocol SlotAdmission {
    func admits(_ slot: Int32) -> Bool
}

/// Live slots.
struct LiveSlots: SlotAdmission {
    let live: UnsafePointer<Bool>
    @inline(__always) func admits(_ slot: Int32) -> Bool { live[Int(slot)] }
}

/// Every slot (no slot has been removed or replaced).
struct AllSlots: SlotAdmission {
    @inline(__always) func admits(_ slot: Int32) -> Bool { true }
}

/// Live slots whose id the filter admits.
struct FilteredSlots: SlotAdmission {
    let live: UnsafePointer<Bool>
    let ids: UnsafePointer<Int32>
    let filter: SearchFilter
    @inline(__always) func admits(_ slot: Int32) -> Bool { live[Int(slot)] && filter.admits(ids[Int(slot)]) }
}

/// Every slot but one (the node being inserted).
struct AllSlotsBut: SlotAdmission {
    let excluded: Int32
    @inline(__always) func admits(_ slot: Int32) -> Bool { slot != excluded }
}

/// Reads one level's neighbour lists `[count, n_1 …]`; while the graph is being built in
/// parallel, each list is copied under its node's spin lock.
struct LinkReader {
    let level0: UnsafeMutablePointer<Int32>
    let upper: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    let locks: UnsafeMutablePointer<UInt8>
    let m0: Int, m: Int, level: Int
    let locking: Bool

    @inline(__always)
    func list(_ slot: Int32) -> UnsafeMutablePointer<Int32> {
        level == 0 ? level0 + Int(slot) * (m0 + 1) : upper[Int(slot)]! + (level - 1) * (m + 1)
    }

    /// The neighbours of `slot`: a pointer to them (copied into `buffer` when locking) and their count.
    @inline(__always)
    func neighbours(_ slot: Int32, buffer: UnsafeMutablePointer<Int32>) -> (UnsafePointer<Int32>, Int) {
        let l = list(slot)
        guard locking else { return (UnsafePointer(l + 1), Int(l[0])) }
        starling_spin_lock(locks + Int(slot))
        let n = Int(l[0])
        buffer.update(from: l + 1, count: n)
        starling_spin_unlock(locks + Int(slot))
        return (UnsafePointer(buffer), n)
    }
}

enum HNSWSearch {
    /// How many neighbours ahead a search prefetches. On 300k × 64 vectors, 1 thread, ef 48:
    /// 13,796 queries/s at distance 1 (hnswlib's), 14,095 at 2, 16,161 at 3, 15,679 at 4.
    static let prefetchDistance = 3

    /// Greedy descent from `start`: move to the best-scoring neighbour until none improves.
    @inline(__always)
    static func greedy<S: SlotScorer>(_ q: UnsafePointer<Float>, from start: Int32, score startScore: Float, links: LinkReader,
                                      scorer: S, buffer: UnsafeMutablePointer<Int32>) -> (Int32, Float) {
        var cur = start, best = startScore
        var changed = true
        while changed {
            changed = false
            let (nb, n) = links.neighbours(cur, buffer: buffer)
            for j in 0..<n {
                let c = nb[j]
                let s = scorer.score(q, c)
                if s > best || (s == best && c < cur) {
                    best = s
                    cur = c
                    changed = true
                }
            }
        }
        return (cur, best)
    }

    /// Best-first search with a dynamic list of `ef` results, left in `scratch.results` (root =
    /// worst kept). Only admitted slots enter the results; every slot routes.
    static func layer<S: SlotScorer, A: SlotAdmission>(_ q: UnsafePointer<Float>, entry: Int32, entryScore: Float, ef: Int,
                                                       links: LinkReader, scorer: S, admission: A, scratch: SearchScratch) {
        var candidates = scratch.candidates, results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        let visited = scratch.visited, generation = scratch.generation, buffer = scratch.neighbourBuffer
        let unvisited = scratch.unvisitedBuffer
        visited[Int(entry)] = generation
        candidates.push(-entryScore, entry)
        if admission.admits(entry) { results.push(entryScore, entry) }
        var lowerBound: Float = results.isEmpty ? -.infinity : results.topScore
        while !candidates.isEmpty {
            let candidateScore = -candidates.topScore
            if candidateScore < lowerBound && results.count >= ef { break }
            let c = candidates.topSlot
            candidates.pop()
            // The next candidate to expand is most likely the new top: fetch its list meanwhile.
            if !candidates.isEmpty { starling_prefetch(links.list(candidates.topSlot)) }
            let (nb, n) = links.neighbours(c, buffer: buffer)
            // First the marks (small, mostly cached): gather the unvisited neighbours, so that
            // vectors are fetched only for nodes that will be scored.
            var fresh = 0
            for j in 0..<n {
                let slot = nb[j]
                if visited[Int(slot)] == generation { continue }
                visited[Int(slot)] = generation
                unvisited[fresh] = slot
                fresh += 1
            }
            for j in 0..<min(fresh, prefetchDistance) { scorer.prefetch(unvisited[j]) }
            for j in 0..<fresh {
                let slot = unvisited[j]
                // A few nodes ahead: their vectors arrive while this one is scored.
                if j + prefetchDistance < fresh { scorer.prefetch(unvisited[j + prefetchDistance]) }
                let s = scorer.score(q, slot)
                if results.count < ef || s > lowerBound {
                    candidates.push(-s, slot)
                    if admission.admits(slot) {
                        results.push(s, slot)
                        if results.count > ef { results.pop() }
                    }
                    if !results.isEmpty { lowerBound = results.topScore }
                }
            }
        }
    }
}

import Foundation
import StarlingData
import StarlingTensor

/// The item co-occurrence graph of a users × items matrix, for DeepWalk-style random walks: items
/// are nodes; two items are joined when some user has both, with weight `c_ij / √(c_i · c_j)`
/// (`c_ij` the users who have both, `c_i` those who have `i`: the cosine of their user sets, so
/// that a walk does not just hop to the most popular items); each item keeps only its strongest
/// edges (so the graph is directed: `j` may be among `i`'s and not `i` among `j`'s). Kept as CSR rows with cumulative
/// weights, so that a step draws a neighbour in proportion to its weight by binary search.
struct ItemCooccurrenceGraph: Sendable {
    let itemCount: Int
    /// Row `i`'s neighbours are `neighbours[start[i]..<start[i + 1]]`, with cumulative weights.
    let start: [Int]
    let neighbours: [Int32]
    let cumulative: [Float]

    /// The graph of `data`, leaving out items in `excluded` (e.g. below a minimum count), each item
    /// keeping its `degree` strongest edges (dense co-occurrence graphs otherwise let a walk wander
    /// anywhere in a step or two).
    init(_ data: InteractionMatrix, degree: Int = 20, excluded: (Int32) -> Bool = { _ in false }) {
        let n = data.itemCount
        var counts = [Float](repeating: 0, count: n)
        for i in data.itemIndices { counts[Int(i)] += 1 }
        var rows = [[Int32: Float]](repeating: [:], count: n)
        for u in 0..<data.userCount {
            let items = data.items(of: u).filter { !excluded($0) }
            for a in items {
                for b in items where b != a { rows[Int(a)][b, default: 0] += 1 }
            }
        }
        var start = [0], neighbours: [Int32] = [], cumulative: [Float] = []
        for i in 0..<n {
            let weighted = rows[i].map { (item: $0.key, weight: $0.value / (counts[i] * counts[Int($0.key)]).squareRoot()) }
            let strongest = weighted.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.item < $1.item }.prefix(degree)
            var total: Float = 0
            for (j, w) in strongest {
                total += w
                neighbours.append(j)
                cumulative.append(total)
            }
            start.append(neighbours.count)
        }
        itemCount = n
        self.start = start
        self.neighbours = neighbours
        self.cumulative = cumulative
    }

    /// Whether `item` has any neighbour.
    func hasNeighbours(_ item: Int32) -> Bool { start[Int(item) + 1] > start[Int(item)] }

    /// A neighbour of `item` drawn in proportion to the edge weights (`item` must have one).
    func step(from item: Int32, rng: inout RandomGenerator) -> Int32 {
        let lo = start[Int(item)], hi = start[Int(item) + 1]
        let target = rng.nextFloat() * cumulative[hi - 1]
        var a = lo, b = hi - 1
        while a < b {
            let m = (a + b) / 2
            if cumulative[m] <= target { a = m + 1 } else { b = m }
        }
        return neighbours[a]
    }

    /// A walk of up to `length` items from `item` (shorter only from an item without neighbours).
    func walk(from item: Int32, length: Int, rng: inout RandomGenerator, into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        out.append(item)
        var current = item
        while out.count < length && hasNeighbours(current) {
            current = step(from: current, rng: &rng)
            out.append(current)
        }
    }

    /// Edges stored (each direction once).
    var edgeCount: Int { neighbours.count }
}

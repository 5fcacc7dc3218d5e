import Foundation
import StarlingTensor

/// In-batch negatives for sampled-softmax training (two-tower retrieval, Yi et al. 2019): each
/// row's negatives are the other rows' items. An item shows up in batches in proportion to its
/// frequency among the training interactions, q(i) = count(i) / total, so popular items are
/// over-used as negatives; subtracting `log q(item)` from each logit (log-q correction) undoes
/// that bias. ``Batch/logQ`` carries those values per column.
public struct InBatchNegatives: Sendable {
    /// `log q(i)` per item (`-inf` for items with no interaction).
    public let logQ: [Float]
    /// q(i) per item.
    public let probabilities: [Double]
    /// The interactions positives are drawn from and accidental hits checked against.
    public let interactions: InteractionMatrix

    /// Frequencies from `interactions` (one count per user–item pair).
    public init(interactions: InteractionMatrix) {
        self.interactions = interactions
        let counts = interactions.itemPopularity
        let total = Double(interactions.count)
        probabilities = counts.map { total > 0 ? Double($0) / total : 0 }
        logQ = probabilities.map { $0 > 0 ? Float(log($0)) : -.infinity }
    }

    /// One batch: row `r` is the positive (`users[r]`, `items[r]`); column `c` of the score
    /// matrix is `items[c]`.
    public struct Batch: Sendable {
        /// Each row's user.
        public let users: [Int32]
        /// Each row's positive item (and column `c`'s item).
        public let items: [Int32]
        /// `log q(items[c])` per column, to subtract from the logits.
        public let logQ: [Float]
        /// Row-major `count × count`: whether column `c` may serve as a negative of row `r` — not
        /// the row's own column, not the same item, and not another positive of the row's user.
        public let negativeMask: [Bool]

        /// The number of rows.
        public var count: Int { users.count }

        /// Row `r`'s negative items (one per valid column; an item repeated in the batch repeats).
        public func negatives(ofRow r: Int) -> [Int32] {
            (0..<count).filter { negativeMask[r * count + $0] }.map { items[$0] }
        }
    }

    /// The batch of the given positives. With `excludingUserPositives` (the default) a column
    /// holding another positive of the row's user is masked out too; that costs a binary search
    /// per cell, so very large batches may prefer to mask only repeated items.
    public func batch(users: [Int32], items: [Int32], excludingUserPositives: Bool = true) -> Batch {
        precondition(users.count == items.count, "InBatchNegatives: \(users.count) users for \(items.count) items")
        let n = users.count
        var mask = [Bool](repeating: false, count: n * n)
        for r in 0..<n {
            for c in 0..<n where c != r && items[c] != items[r] {
                mask[r * n + c] = !excludingUserPositives || !interactions.contains(user: Int(users[r]), item: items[c])
            }
        }
        return Batch(users: users, items: items, logQ: items.map { logQ[Int($0)] }, negativeMask: mask)
    }

    /// A batch of `size` positives drawn uniformly (with replacement) from the interactions.
    public func sampleBatch(size: Int, excludingUserPositives: Bool = true, using rng: inout RandomGenerator) -> Batch {
        precondition(interactions.count > 0, "InBatchNegatives: no interactions to draw from")
        var users: [Int32] = [], items: [Int32] = []
        users.reserveCapacity(size); items.reserveCapacity(size)
        for _ in 0..<size {
            let k = rng.nextInt(below: interactions.count)
            // The row holding entry k: binary search in rowStart.
            var lo = 0, hi = interactions.userCount
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if interactions.rowStart[mid] <= k { lo = mid } else { hi = mid }
            }
            users.append(Int32(lo))
            items.append(interactions.itemIndices[k])
        }
        return batch(users: users, items: items, excludingUserPositives: excludingUserPositives)
    }
}

import StarlingTensor

/// Draws from a fixed discrete distribution in O(1) per sample (Walker's alias method, built
/// with Vose's stable O(n) construction): a uniform column, then a biased coin between the
/// column and its alias.
public struct AliasTable: Sendable {
    /// Each outcome's probability (the weights, normalised).
    public let probabilities: [Double]
    /// The chance of keeping column `i` rather than taking its alias.
    let keep: [Double]
    let alias: [Int32]

    /// A table for outcomes `0..<weights.count` with probabilities proportional to `weights`
    /// (non-negative, finite, not all zero).
    public init(weights: [Double]) {
        let n = weights.count
        precondition(n > 0 && n <= Int(Int32.max), "AliasTable: needs 1…Int32.max weights, got \(n)")
        precondition(weights.allSatisfy { $0 >= 0 && $0.isFinite }, "AliasTable: weights must be finite and non-negative")
        let total = weights.reduce(0, +)
        precondition(total > 0, "AliasTable: the weights sum to zero")
        probabilities = weights.map { $0 / total }
        var scaled = probabilities.map { $0 * Double(n) }
        var keep = [Double](repeating: 1, count: n)
        var alias = [Int32](repeating: 0, count: n)
        for i in 0..<n { alias[i] = Int32(i) }
        var small: [Int] = [], large: [Int] = []
        small.reserveCapacity(n); large.reserveCapacity(n)
        for i in 0..<n { if scaled[i] < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.last, let l = large.last {
            small.removeLast()
            keep[s] = scaled[s]
            alias[s] = Int32(l)
            scaled[l] = (scaled[l] + scaled[s]) - 1
            if scaled[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
        // Whatever is left has probability 1 up to rounding.
        for i in large { keep[i] = 1 }
        for i in small { keep[i] = 1 }
        self.keep = keep
        self.alias = alias
    }

    /// The number of outcomes.
    public var count: Int { probabilities.count }

    /// One outcome.
    @inlinable
    public func sample(using rng: inout RandomGenerator) -> Int {
        let column = rng.nextInt(below: probabilities.count)
        return rng.nextDouble() < keepProbability(column) ? column : aliasOf(column)
    }

    @usableFromInline func keepProbability(_ column: Int) -> Double { keep[column] }
    @usableFromInline func aliasOf(_ column: Int) -> Int { Int(alias[column]) }

    /// The probability of outcome `i`.
    public func probability(of i: Int) -> Double { probabilities[i] }
}

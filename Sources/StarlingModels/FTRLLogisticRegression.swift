import Foundation

/// Logistic regression learned one example at a time by FTRL-Proximal (McMahan et al., "Ad Click
/// Prediction: a View from the Trenches", KDD 2013, Algorithm 1): per-coordinate learning rates
/// `η_i = α / (β + √Σg_i²)`, L1 and L2 regularisation applied in closed form, so weights of features
/// that do not help stay exactly zero.
///
/// Dense: every example has the same `dimension` features (a ranker's handful of signals, not a
/// hashed sparse space). A value type: callers that share one keep it behind a lock.
public struct FTRLLogisticRegression: Sendable, Equatable {
    /// Learning-rate scale α, its stabiliser β, and the L1 and L2 strengths.
    public struct Hyperparameters: Sendable, Equatable, Codable {
        public var alpha: Double
        public var beta: Double
        public var l1: Double
        public var l2: Double

        public init(alpha: Double = 0.05, beta: Double = 1, l1: Double = 0, l2: Double = 1) {
            self.alpha = alpha
            self.beta = beta
            self.l1 = l1
            self.l2 = l2
        }
    }

    public let dimension: Int
    public let hyperparameters: Hyperparameters
    /// FTRL's accumulated adjusted gradients `z` and squared gradients `n`.
    private var z: [Double]
    private var n: [Double]
    /// The current weights (kept in step with `z` and `n` after every update).
    public private(set) var weights: [Double]
    /// Examples learned so far.
    public private(set) var updates = 0

    /// A model with all weights zero (every prediction 0.5).
    public init(dimension: Int, hyperparameters: Hyperparameters = Hyperparameters()) {
        precondition(dimension > 0, "FTRLLogisticRegression: dimension must be positive")
        precondition(hyperparameters.alpha > 0 && hyperparameters.beta >= 0 && hyperparameters.l1 >= 0 && hyperparameters.l2 >= 0,
                     "FTRLLogisticRegression: alpha must be positive and beta, l1, l2 non-negative")
        self.dimension = dimension
        self.hyperparameters = hyperparameters
        z = Array(repeating: 0, count: dimension)
        n = Array(repeating: 0, count: dimension)
        weights = Array(repeating: 0, count: dimension)
    }

    /// The logit `w·x` (`x` has `dimension` values).
    public func logit(_ x: [Float]) -> Double {
        precondition(x.count == dimension, "FTRLLogisticRegression: \(x.count) features, expected \(dimension)")
        var s = 0.0
        for i in 0..<dimension where x[i] != 0 { s += weights[i] * Double(x[i]) }
        return s
    }

    /// P(label = 1 | x).
    public func probability(_ x: [Float]) -> Double { Self.sigmoid(logit(x)) }

    /// Learns from one example; returns the probability predicted before the update.
    @discardableResult
    public mutating func learn(_ x: [Float], label: Bool) -> Double {
        let p = probability(x)
        let g0 = p - (label ? 1 : 0)
        let h = hyperparameters
        for i in 0..<dimension where x[i] != 0 {
            let g = g0 * Double(x[i])
            let sigma = ((n[i] + g * g).squareRoot() - n[i].squareRoot()) / h.alpha
            z[i] += g - sigma * weights[i]
            n[i] += g * g
            weights[i] = abs(z[i]) <= h.l1 ? 0 : -(z[i] - (z[i] < 0 ? -h.l1 : h.l1)) / ((h.beta + n[i].squareRoot()) / h.alpha + h.l2)
        }
        updates += 1
        return p
    }

    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}

import Foundation

/// Progressive validation of a model learning on a stream: each prediction is recorded with the
/// label that arrived after it, and the model learns from the example only afterwards, so every
/// recorded prediction was made on data the model had not seen (Blum, Kalai & Langford, COLT 1999;
/// the "progressive validation loss" of McMahan et al., KDD 2013).
///
/// Keeps the most recent `window` predictions in a ring; ``auc`` and ``logLoss`` are computed over
/// them with ``ClassificationMetrics``, so the figures follow the model as it drifts.
public struct ProgressiveValidation: Sendable {
    /// How many of the latest predictions the figures cover.
    public let window: Int
    private var scores: [Float] = []
    private var probabilities: [Float] = []
    private var labels: [Bool] = []
    private var next = 0
    /// Every prediction ever recorded.
    public private(set) var total = 0

    /// An empty record of at most `window` predictions.
    public init(window: Int = 20_000) {
        precondition(window > 0, "ProgressiveValidation: window must be positive")
        self.window = window
    }

    /// Records a prediction made before the model learned from its example: its ranking `score`,
    /// its `probability` of the positive label, and the `label`.
    public mutating func add(score: Float, probability: Float, label: Bool) {
        if scores.count < window {
            scores.append(score); probabilities.append(probability); labels.append(label)
        } else {
            scores[next] = score; probabilities[next] = probability; labels[next] = label
        }
        next = (next + 1) % window
        total += 1
    }

    /// Predictions in the window.
    public var count: Int { scores.count }
    /// AUC of the window's scores (nil without both labels).
    public var auc: Double? { ClassificationMetrics.auc(scores: scores, labels: labels) }
    /// Log loss of the window's probabilities (nil when empty).
    public var logLoss: Double? { labels.isEmpty ? nil : ClassificationMetrics.logLoss(probabilities: probabilities, labels: labels) }
    /// Share of positive labels in the window.
    public var positiveRate: Double? { labels.isEmpty ? nil : Double(labels.lazy.filter { $0 }.count) / Double(labels.count) }
    /// The window's scores, for distribution checks (oldest first is not guaranteed).
    public var windowScores: [Float] { scores }
}

/// Turns raw ranking scores into probabilities, `p = σ(a·s + b)`, with `a` and `b` learned online
/// by stochastic gradient descent on the log loss (Platt scaling, learned prequentially: use
/// ``probability(_:)`` first, then ``learn(score:label:)``).
public struct PlattCalibrator: Sendable, Equatable {
    public private(set) var a: Float
    public private(set) var b: Float
    public let learningRate: Float

    /// Starts from `σ(a·s + b)` with the given slope and intercept.
    public init(a: Float = 1, b: Float = 0, learningRate: Float = 0.02) {
        self.a = a
        self.b = b
        self.learningRate = learningRate
    }

    /// The calibrated probability of `score`.
    public func probability(_ score: Float) -> Float { 1 / (1 + exp(-(a * score + b))) }

    /// One gradient step on the log loss of `score` against `label`.
    public mutating func learn(score: Float, label: Bool) {
        let g = probability(score) - (label ? 1 : 0)
        a -= learningRate * g * score
        b -= learningRate * g
    }
}

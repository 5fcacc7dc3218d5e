import Foundation

/// A learning rate as a function of the step number (0-based).
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step `step`.
    func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    public let rate: Float
    public init(rate: Float) { self.rate = rate }
    public func learningRate(at step: Int) -> Float { rate }
}

/// Linear warm-up from `rate / warmupSteps` to the wrapped schedule's rate over `warmupSteps`
/// steps, then the wrapped schedule (counting from the end of warm-up).
public struct WarmupSchedule<Base: LearningRateSchedule>: LearningRateSchedule {
    public let base: Base
    public let warmupSteps: Int
    public init(base: Base, warmupSteps: Int) {
        precondition(warmupSteps >= 0, "WarmupSchedule: warmupSteps must be non-negative")
        self.base = base
        self.warmupSteps = warmupSteps
    }
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return base.learningRate(at: 0) * Float(step + 1) / Float(warmupSteps) }
        return base.learningRate(at: step - warmupSteps)
    }
}

/// Multiplies the rate by `gamma` every `stepSize` steps: `rate · gamma^⌊step / stepSize⌋`.
public struct StepDecaySchedule: LearningRateSchedule {
    public let rate: Float, stepSize: Int, gamma: Float
    public init(rate: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepDecaySchedule: stepSize must be positive")
        self.rate = rate; self.stepSize = stepSize; self.gamma = gamma
    }
    public func learningRate(at step: Int) -> Float { rate * Foundation.pow(gamma, Float(step / stepSize)) }
}

/// Cosine annealing from `rate` to `minimumRate` over `totalSteps`, constant afterwards:
/// `min + ½(rate - min)(1 + cos(π·step/total))`.
public struct CosineSchedule: LearningRateSchedule {
    public let rate: Float, totalSteps: Int, minimumRate: Float
    public init(rate: Float, totalSteps: Int, minimumRate: Float = 0) {
        precondition(totalSteps > 0, "CosineSchedule: totalSteps must be positive")
        self.rate = rate; self.totalSteps = totalSteps; self.minimumRate = minimumRate
    }
    public func learningRate(at step: Int) -> Float {
        let t = Float(Swift.min(step, totalSteps)) / Float(totalSteps)
        return minimumRate + 0.5 * (rate - minimumRate) * (1 + Foundation.cos(Float.pi * t))
    }
}

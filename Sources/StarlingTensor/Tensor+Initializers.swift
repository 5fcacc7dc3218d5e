import Foundation

extension Tensor {
    /// Scalars drawn uniformly from `[low, high)`.
    public static func uniform(shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.writePointer(), width = high - low
        for i in 0..<t.count { p[i] = low + width * rng.nextFloat() }
        return t
    }

    /// Scalars drawn from a normal distribution.
    public static func normal(shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.writePointer()
        for i in 0..<t.count { p[i] = mean + standardDeviation * rng.nextNormal() }
        return t
    }

    /// Fan-in and fan-out of a weight shape, PyTorch's convention: `[out, in, receptive…]`.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 1, "fans: need at least one dimension")
        if shape.count == 1 { return (shape[0], shape[0]) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Glorot/Xavier uniform: `U(-a, a)` with `a = gain·√(6 / (fanIn + fanOut))`.
    public static func xavierUniform(shape: [Int], gain: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        let (fi, fo) = fans(shape)
        let a = gain * (6 / Float(fi + fo)).squareRoot()
        return uniform(shape: shape, low: -a, high: a, using: &rng)
    }

    /// Glorot/Xavier normal: `N(0, σ²)` with `σ = gain·√(2 / (fanIn + fanOut))`.
    public static func xavierNormal(shape: [Int], gain: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        let (fi, fo) = fans(shape)
        return normal(shape: shape, standardDeviation: gain * (2 / Float(fi + fo)).squareRoot(), using: &rng)
    }

    /// He/Kaiming uniform for ReLU layers: `U(-a, a)` with `a = √(6 / fanIn)`.
    public static func heUniform(shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        let a = (6 / Float(fans(shape).fanIn)).squareRoot()
        return uniform(shape: shape, low: -a, high: a, using: &rng)
    }

    /// He/Kaiming normal for ReLU layers: `N(0, 2 / fanIn)`.
    public static func heNormal(shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        normal(shape: shape, standardDeviation: (2 / Float(fans(shape).fanIn)).squareRoot(), using: &rng)
    }

    /// LeCun uniform: `U(-a, a)` with `a = √(3 / fanIn)`.
    public static func lecunUniform(shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        let a = (3 / Float(fans(shape).fanIn)).squareRoot()
        return uniform(shape: shape, low: -a, high: a, using: &rng)
    }
}

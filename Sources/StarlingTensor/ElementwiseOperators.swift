/// Element-wise operations as small structs with a SIMD and a scalar form.
///
/// Kernels take them as generic parameters rather than closures: the compiler specialises and
/// inlines generics reliably, while closures passed to the SIMD loops were compiled as separate
/// functions called once per 16 lanes.
public protocol UnaryOperator {
    func apply(_ v: SIMD16<Float>) -> SIMD16<Float>
    func apply(_ x: Float) -> Float
}

/// A two-operand element-wise operation (see ``UnaryOperator``).
public protocol BinaryOperator {
    func apply(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float>
    func apply(_ a: Float, _ b: Float) -> Float
}

/// Element-wise operators used by the tensor kernels and the autograd operations.
public enum Elementwise {
    public typealias V = SIMD16<Float>

    public struct Add: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ a: V, _ b: V) -> V { a + b }
        @inlinable public func apply(_ a: Float, _ b: Float) -> Float { a + b }
    }
    public struct Subtract: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ a: V, _ b: V) -> V { a - b }
        @inlinable public func apply(_ a: Float, _ b: Float) -> Float { a - b }
    }
    public struct Multiply: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ a: V, _ b: V) -> V { a * b }
        @inlinable public func apply(_ a: Float, _ b: Float) -> Float { a * b }
    }
    public struct Divide: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ a: V, _ b: V) -> V { a / b }
        @inlinable public func apply(_ a: Float, _ b: Float) -> Float { a / b }
    }
    /// `b` (broadcasting a tensor into a shape).
    public struct Second: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ a: V, _ b: V) -> V { b }
        @inlinable public func apply(_ a: Float, _ b: Float) -> Float { b }
    }
    /// A binary operator with its right operand fixed.
    public struct WithRight<Op: BinaryOperator>: UnaryOperator {
        public let op: Op, value: Float, vector: V
        @inlinable public init(_ op: Op, _ value: Float) { self.op = op; self.value = value; vector = V(repeating: value) }
        @inlinable public func apply(_ v: V) -> V { op.apply(v, vector) }
        @inlinable public func apply(_ x: Float) -> Float { op.apply(x, value) }
    }
    /// A binary operator with its left operand fixed.
    public struct WithLeft<Op: BinaryOperator>: UnaryOperator {
        public let op: Op, value: Float, vector: V
        @inlinable public init(_ op: Op, _ value: Float) { self.op = op; self.value = value; vector = V(repeating: value) }
        @inlinable public func apply(_ v: V) -> V { op.apply(vector, v) }
        @inlinable public func apply(_ x: Float) -> Float { op.apply(value, x) }
    }
    public struct Negate: UnaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ v: V) -> V { -v }
        @inlinable public func apply(_ x: Float) -> Float { -x }
    }
    public struct ReLU: UnaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ v: V) -> V { v.replacing(with: 0, where: v .< 0) }
        @inlinable public func apply(_ x: Float) -> Float { x < 0 ? 0 : x }
    }
    /// Upstream gradient `g` passed where the ReLU output `y` is positive.
    public struct ReLUGradient: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ g: V, _ y: V) -> V { g.replacing(with: 0, where: y .<= 0) }
        @inlinable public func apply(_ g: Float, _ y: Float) -> Float { y > 0 ? g : 0 }
    }
    public struct LeakyReLU: UnaryOperator {
        public let slope: Float
        @inlinable public init(slope: Float) { self.slope = slope }
        @inlinable public func apply(_ v: V) -> V { v.replacing(with: v * slope, where: v .< 0) }
        @inlinable public func apply(_ x: Float) -> Float { x < 0 ? x * slope : x }
    }
    /// Upstream gradient `g` scaled by the slope where the input `x` is negative.
    public struct LeakyReLUGradient: BinaryOperator {
        public let slope: Float
        @inlinable public init(slope: Float) { self.slope = slope }
        @inlinable public func apply(_ g: V, _ x: V) -> V { g.replacing(with: g * slope, where: x .< 0) }
        @inlinable public func apply(_ g: Float, _ x: Float) -> Float { x < 0 ? g * slope : g }
    }
    public struct Exp: UnaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ v: V) -> V { VectorKernels.exp(v) }
        @inlinable public func apply(_ x: Float) -> Float { ScalarMath.exp(x) }
    }
    public struct Sigmoid: UnaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ v: V) -> V { VectorKernels.sigmoid(v) }
        @inlinable public func apply(_ x: Float) -> Float { ScalarMath.sigmoid(x) }
    }
    /// `g·y·(1 - y)` from the sigmoid output `y`.
    public struct SigmoidGradient: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ g: V, _ y: V) -> V { g * y * (1 - y) }
        @inlinable public func apply(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) }
    }
    public struct Tanh: UnaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ v: V) -> V { VectorKernels.tanh(v) }
        @inlinable public func apply(_ x: Float) -> Float { ScalarMath.tanh(x) }
    }
    /// `g·(1 - y²)` from the tanh output `y`.
    public struct TanhGradient: BinaryOperator {
        @inlinable public init() {}
        @inlinable public func apply(_ g: V, _ y: V) -> V { g * (1 - y * y) }
        @inlinable public func apply(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) }
    }
    /// `scale·(σ(x) - t)`: the gradient of binary cross-entropy on logits.
    public struct SigmoidMinusTarget: BinaryOperator {
        public let scale: Float
        @inlinable public init(scale: Float) { self.scale = scale }
        @inlinable public func apply(_ x: V, _ t: V) -> V { (VectorKernels.sigmoid(x) - t) * scale }
        @inlinable public func apply(_ x: Float, _ t: Float) -> Float { (ScalarMath.sigmoid(x) - t) * scale }
    }
}

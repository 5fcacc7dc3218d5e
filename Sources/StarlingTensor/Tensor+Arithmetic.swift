extension Tensor {
    public typealias V = SIMD16<Float>

    /// Element-wise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { Broadcast.apply(a, b, name: "add", Elementwise.Add()) }
    /// Element-wise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { Broadcast.apply(a, b, name: "sub", Elementwise.Subtract()) }
    /// Element-wise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { Broadcast.apply(a, b, name: "mul", Elementwise.Multiply()) }
    /// Element-wise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor { Broadcast.apply(a, b, name: "div", Elementwise.Divide()) }

    /// Every scalar multiplied by `s`.
    public static func * (a: Tensor, s: Float) -> Tensor { a.map(Elementwise.WithRight(Elementwise.Multiply(), s)) }
    /// Every scalar plus `s`.
    public static func + (a: Tensor, s: Float) -> Tensor { a.map(Elementwise.WithRight(Elementwise.Add(), s)) }
    /// Every scalar negated.
    public static prefix func - (a: Tensor) -> Tensor { a.map(Elementwise.Negate()) }

    /// Adds `other` (same shape) into this tensor in place.
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "add(_:): shapes \(shape) and \(other.shape) differ")
        VectorKernels.add(other.readPointer, into: writePointer(), count)
    }

    /// Adds `alpha * other` (same shape) into this tensor in place.
    public mutating func add(_ other: Tensor, scaledBy alpha: Float) {
        precondition(shape == other.shape, "add(_:scaledBy:): shapes \(shape) and \(other.shape) differ")
        VectorKernels.addScaled(other.readPointer, alpha, into: writePointer(), count)
    }

    /// Multiplies every scalar by `alpha` in place.
    public mutating func scale(by alpha: Float) {
        VectorKernels.scale(writePointer(), alpha, count)
    }

    /// A new tensor with `op` applied to every scalar (SIMD body, scalar tail).
    @inlinable
    public func map<Op: UnaryOperator>(_ op: Op) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        VectorKernels.map(readPointer, out.writePointer(), count, op)
        return out
    }

    /// A new tensor with `op(self[i], other[i])` (same shapes).
    @inlinable
    public func zip<Op: BinaryOperator>(_ other: Tensor, _ op: Op) -> Tensor {
        precondition(shape == other.shape, "zip: shapes \(shape) and \(other.shape) differ")
        var out = Tensor(uninitializedShape: shape)
        VectorKernels.zip(readPointer, other.readPointer, out.writePointer(), count, op)
        return out
    }

    /// A new tensor with `f` applied to every scalar by a plain loop (for functions with no SIMD form).
    @inlinable @inline(__always)
    public func mapScalars(_ f: (Float) -> Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let src = readPointer, dst = out.writePointer()
        for i in 0..<count { dst[i] = f(src[i]) }
        return out
    }

    /// The sum of the squares of all scalars.
    public var squaredNorm: Float { VectorKernels.dot(readPointer, readPointer, count) }

    /// The sum of all scalars.
    public var sum: Float { VectorKernels.sum(readPointer, count) }

    /// Sums a broadcast result back down to `target` (the reverse of broadcasting), as the
    /// gradient of a broadcast operand needs.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let r = shape.count
        precondition(target.count <= r, "sum(toShape:): cannot reduce \(shape) to \(target)")
        let padded = [Int](repeating: 1, count: r - target.count) + target
        var result = self
        for axis in 0..<r where padded[axis] == 1 && shape[axis] != 1 {
            result = result.sum(alongAxis: axis, keepingDimension: true)
        }
        precondition(Tensor.elementCount(result.shape) == Tensor.elementCount(target),
                     "sum(toShape:): cannot reduce \(shape) to \(target)")
        return result.reshaped(target)
    }
}

/// A dense, contiguous, row-major array of `Float`s with a shape.
///
/// `Tensor` is a value type: copies share storage until one is mutated (copy-on-write). All
/// arithmetic that needs speed goes through BLAS or SIMD kernels working on the raw buffer.
///
/// ```swift
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = x.matmul(Tensor.eye(3))
/// ```
public struct Tensor: Sendable {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// The number of scalars (the product of the shape's dimensions).
    @inlinable public var count: Int { storage.count }
    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// A tensor of the given shape with every scalar set to `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        Tensor.checkShape(shape)
        self.shape = shape
        self.storage = TensorStorage(count: Tensor.elementCount(shape), repeating: value)
    }

    /// A tensor of the given shape whose scalars are left uninitialised, for kernels that write
    /// every element.
    public init(uninitializedShape shape: [Int]) {
        Tensor.checkShape(shape)
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    ///
    /// - Throws: ``TensorError/scalarCountMismatch(shape:expected:actual:)`` when the count differs.
    public init(shape: [Int], scalars: [Float]) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidShape(shape) }
        let expected = Tensor.elementCount(shape)
        guard expected == scalars.count else {
            throw .scalarCountMismatch(shape: shape, expected: expected, actual: scalars.count)
        }
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: expected)
        scalars.withUnsafeBufferPointer { src in
            if let p = src.baseAddress { storage.base.update(from: p, count: expected) }
        }
    }

    /// A tensor of the given shape holding `scalars`; stops with a clear message on a count
    /// mismatch. For literals in code and tests.
    public init(_ scalars: [Float], shape: [Int]) {
        do { try self.init(shape: shape, scalars: scalars) } catch {
            preconditionFailure("Tensor(_:shape:): \(error)")
        }
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Float]) {
        self.init(scalars, shape: [scalars.count])
    }

    /// A rank-0 tensor holding one scalar.
    public init(scalar: Float) {
        self.init([scalar], shape: [])
    }

    init(shape: [Int], storage: TensorStorage) {
        precondition(Tensor.elementCount(shape) == storage.count,
                     "Tensor: shape \(shape) does not match \(storage.count) stored scalars")
        self.shape = shape
        self.storage = storage
    }

    /// The identity matrix of size `n`.
    public static func eye(_ n: Int) -> Tensor {
        var t = Tensor(shape: [n, n])
        t.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i * n + i] = 1 } }
        return t
    }

    /// A copy of the scalars in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// The only scalar of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) scalars")
        return storage.base[0]
    }

    /// Reads or writes the scalar at a multi-dimensional index.
    public subscript(_ index: Int...) -> Float {
        get { storage.base[flatIndex(index)] }
        set {
            let i = flatIndex(index)
            makeUnique()
            storage.base[i] = newValue
        }
    }

    /// Calls `body` with a read-only view of the scalars.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// Calls `body` with a writable view of the scalars, copying the storage first if another
    /// tensor shares it.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
    }

    /// The read-only base pointer, valid while this tensor (or a copy sharing its storage) lives.
    /// Kernels use it to avoid closure nesting; never write through it.
    @inlinable public var readPointer: UnsafePointer<Float> { UnsafePointer(storage.base) }

    /// Ensures this tensor owns its storage exclusively and returns the writable base pointer.
    @inlinable
    public mutating func writePointer() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return storage.base
    }

    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The same scalars viewed with another shape of the same element count (no copy). One
    /// dimension may be `-1`, meaning "whatever makes the count match".
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: Tensor.resolve(newShape, count: count, op: "reshaped"), storage: storage)
    }

    /// Whether two tensors have the same shape and bit-identical scalars.
    public func isIdentical(to other: Tensor) -> Bool {
        shape == other.shape && memcmp(storage.base, other.storage.base, count * 4) == 0
    }

    /// Whether two tensors have the same shape and every pair of scalars differs by at most
    /// `absolute + relative * |other|`.
    public func isClose(to other: Tensor, absolute: Float = 1e-5, relative: Float = 1e-4) -> Bool {
        guard shape == other.shape else { return false }
        for i in 0..<count {
            let a = storage.base[i], b = other.storage.base[i]
            if !(abs(a - b) <= absolute + relative * abs(b)) { return false }
        }
        return true
    }

    // MARK: shape helpers

    /// The product of a shape's dimensions (1 for a scalar shape).
    @inlinable
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n &*= d }
        return n
    }

    static func checkShape(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: invalid shape \(shape)")
    }

    static func resolve(_ shape: [Int], count: Int, op: String) -> [Int] {
        let unknown = shape.indices.filter { shape[$0] == -1 }
        precondition(unknown.count <= 1, "\(op): more than one -1 in \(shape)")
        var resolved = shape
        if let u = unknown.first {
            let known = shape.enumerated().reduce(1) { $1.offset == u ? $0 : $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "\(op): cannot view \(count) scalars as \(shape)")
            resolved[u] = count / known
        }
        precondition(elementCount(resolved) == count,
                     "\(op): cannot view \(count) scalars as shape \(shape)")
        return resolved
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count,
                     "Tensor subscript: \(index.count) indices for a tensor of rank \(shape.count)")
        var flat = 0
        for (i, d) in Swift.zip(index, shape) {
            precondition(i >= 0 && i < d, "Tensor subscript: index \(index) out of range for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// Splits `shape` around `axis` into (product before, extent, product after).
    @inlinable
    public static func split(_ shape: [Int], at axis: Int) -> (outer: Int, dim: Int, inner: Int) {
        var outer = 1, inner = 1
        for i in 0..<axis { outer *= shape[i] }
        for i in (axis + 1)..<shape.count { inner *= shape[i] }
        return (outer, shape[axis], inner)
    }

    /// Turns a possibly negative axis into its position, stopping with a clear message when out of range.
    public static func normalize(axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
        return a
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(16).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 16 ? ", …" : "")])"
    }
}

import Foundation

/// A 64-byte aligned, heap-allocated block of `Float`s owned by one or more ``Tensor`` values.
///
/// Tensors share storage until one of them mutates (copy-on-write), so a storage block is never
/// written while another tensor can see it. That invariant is what makes the `@unchecked Sendable`
/// conformance sound.
public final class TensorStorage: @unchecked Sendable {
    /// The number of `Float`s in the block.
    public let count: Int
    /// The first element. Valid for `count` elements while this object is alive.
    public let base: UnsafeMutablePointer<Float>

    /// Allocates `count` floats, uninitialised.
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let raw = BufferCache.allocate(bytes: max(count, 1) * MemoryLayout<Float>.stride)
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates `count` floats, each set to `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// A new block holding a copy of this block's elements.
    @usableFromInline func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.base.update(from: base, count: count)
        return other
    }

    deinit {
        BufferCache.release(UnsafeMutableRawPointer(base), bytes: max(count, 1) * MemoryLayout<Float>.stride)
    }
}

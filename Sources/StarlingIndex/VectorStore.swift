import StarlingTensor

/// The vectors of an index in slots: contiguous float rows (optionally also int8 codes), the id of
/// each slot, the slot of each id and which slots are live. Not thread-safe: the owning index
/// guards it with its lock. Removing an id only marks its slot dead (graph indexes still route
/// through it); updating an id moves it to a fresh slot.
final class VectorStore: @unchecked Sendable {
    let dimension: Int
    let metric: SimilarityMetric
    /// Rows in use (live or dead).
    private(set) var slotCount = 0
    private(set) var capacity = 0
    private(set) var liveCount = 0
    /// `capacity × dimension` floats; rows below `slotCount` are valid.
    private(set) var floats: UnsafeMutablePointer<Float>
    /// `capacity` ids and live flags.
    private(set) var ids: UnsafeMutablePointer<Int32>
    private(set) var live: UnsafeMutablePointer<Bool>
    private(set) var slotOfId: [Int32: Int32] = [:]
    /// Int8 codes (`capacity × dimension`) and per-vector scales, when quantised.
    let quantizer: ScalarQuantizer?
    private(set) var codes: UnsafeMutablePointer<Int8>?
    private(set) var scales: UnsafeMutablePointer<Float>?
    /// Whether the float rows are kept (without them, re-ranking needs an outside source).
    let keepsFloats: Bool

    init(dimension: Int, metric: SimilarityMetric, quantizer: ScalarQuantizer? = nil, keepsFloats: Bool = true, capacity: Int = 1024) {
        self.dimension = dimension
        self.metric = metric
        self.quantizer = quantizer
        self.keepsFloats = keepsFloats || quantizer == nil
        floats = LargeBuffer.allocate(count: 0)
        ids = LargeBuffer.allocate(count: 0)
        live = LargeBuffer.allocate(count: 0)
        if quantizer != nil {
            codes = LargeBuffer.allocate(count: 0)
            scales = LargeBuffer.allocate(count: 0)
        }
        reserve(capacity)
    }

    deinit {
        LargeBuffer.free(floats)
        LargeBuffer.free(ids)
        LargeBuffer.free(live)
        if let codes { LargeBuffer.free(codes) }
        if let scales { LargeBuffer.free(scales) }
    }

    /// Grows the buffers to hold `n` slots.
    func reserve(_ n: Int) {
        guard n > capacity else { return }
        let d = dimension
        if keepsFloats { floats = Self.grow(floats, old: slotCount * d, new: n * d) }
        ids = Self.grow(ids, old: slotCount, new: n)
        live = Self.grow(live, old: slotCount, new: n)
        if let c = codes { codes = Self.grow(c, old: slotCount * d, new: n * d) }
        if let s = scales { scales = Self.grow(s, old: slotCount, new: n) }
        capacity = n
    }

    private static func grow<T>(_ p: UnsafeMutablePointer<T>, old: Int, new: Int) -> UnsafeMutablePointer<T> {
        LargeBuffer.grow(p, used: old, to: new)
    }

    /// The vector as stored: normalised for cosine.
    func prepared(_ v: [Float]) -> [Float] { metric == .cosine ? IndexSupport.normalised(v) : v }

    /// Appends `vector` (already ``prepared(_:)``) as a new live slot for `id`, marking any previous
    /// slot of `id` dead. Returns the new slot and the old one, if any.
    @discardableResult
    func append(id: Int32, vector: [Float]) -> (slot: Int32, replaced: Int32?) {
        if slotCount == capacity { reserve(max(1024, capacity * 2)) }
        let s = slotCount, d = dimension
        if keepsFloats { vector.withUnsafeBufferPointer { (floats + s * d).initialize(from: $0.baseAddress!, count: d) } }
        if let quantizer, let codes, let scales {
            scales[s] = vector.withUnsafeBufferPointer { quantizer.encode($0.baseAddress!, into: codes + s * d, dimension: d) }
        }
        ids[s] = id
        live[s] = true
        slotCount += 1
        let old = slotOfId.updateValue(Int32(s), forKey: id)
        if let old { live[Int(old)] = false } else { liveCount += 1 }
        return (Int32(s), old)
    }

    /// Appends a slot read from a file: its float row (when kept) or its int8 code and scale.
    func restore(id: Int32, live isLive: Bool, vector: UnsafePointer<Float>?, code: UnsafePointer<Int8>?, scale: Float) {
        if slotCount == capacity { reserve(max(1024, capacity * 2)) }
        let s = slotCount, d = dimension
        if keepsFloats, let vector { (floats + s * d).initialize(from: vector, count: d) }
        if let codes, let scales {
            if let code {
                (codes + s * d).initialize(from: code, count: d)
                scales[s] = scale
            } else if let vector, let quantizer {
                scales[s] = quantizer.encode(vector, into: codes + s * d, dimension: d)
            }
        }
        ids[s] = id
        live[s] = isLive
        slotCount += 1
        if isLive {
            slotOfId[id] = Int32(s)
            liveCount += 1
        }
    }

    /// Marks `id` dead; returns its slot.
    func remove(id: Int32) -> Int32? {
        guard let s = slotOfId.removeValue(forKey: id) else { return nil }
        live[Int(s)] = false
        liveCount -= 1
        return s
    }

    @inline(__always) func row(_ slot: Int) -> UnsafeMutablePointer<Float> { floats + slot * dimension }

    /// Bytes of the vector storage (floats if kept, codes and scales if quantised) and the id tables.
    var memoryBytes: Int {
        var b = capacity * (MemoryLayout<Int32>.size + 1)
        if keepsFloats { b += capacity * dimension * 4 }
        if codes != nil { b += capacity * (dimension + 4) }
        return b + slotOfId.capacity * 9
    }

    /// Bytes of the vectors alone (float rows or int8 codes + scales).
    var vectorBytes: Int { (keepsFloats ? capacity * dimension * 4 : 0) + (codes != nil ? capacity * (dimension + 4) : 0) }
}

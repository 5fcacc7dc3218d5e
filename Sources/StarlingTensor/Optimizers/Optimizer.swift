/// Updates parameters from their gradients.
///
/// Dense gradients update the whole parameter. Row-sparse gradients (embedding tables) update only
/// the rows the batch touched, and only those rows' optimizer state ("lazy" updates), so a step
/// costs time proportional to the batch, not to the table.
///
/// A step is cut into segments (a run of a dense parameter, or one touched row) that are updated
/// on ``threadCount`` threads. Every element is updated by exactly one thread with the same
/// arithmetic, so results do not depend on the thread count.
public protocol Optimizer: AnyObject {
    /// The step size used by the next ``step(_:gradients:)``; a schedule may change it between steps.
    var learningRate: Float { get set }
    /// Threads used by a step.
    var threadCount: Int { get set }

    /// Applies one update to each parameter that has a gradient in `gradients`.
    func step(_ parameters: [Parameter], gradients: Gradients)

    /// Brings every parameter up to date with updates the optimizer has deferred (see
    /// ``Adam/SparseMode/denseEquivalent``). Call before reading weights for evaluation or a
    /// checkpoint; optimizers without deferred work do nothing.
    func synchronize(_ parameters: [Parameter])
}

extension Optimizer {
    public func synchronize(_ parameters: [Parameter]) {}
}

/// A raw pointer that may cross threads: the code using it guarantees disjoint access.
public struct SharedPointer: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public init(_ base: UnsafeMutablePointer<Float>) { self.base = base }
}

/// Updates `count` elements at element `offset` of one parameter (and its state) from `gradient`.
public typealias SegmentUpdate = @Sendable (_ offset: Int, _ gradient: UnsafePointer<Float>, _ count: Int) -> Void

/// A segment kernel plus the arrays it reads and writes at the segment's offset (the parameter and
/// its state), so rows further down the list can be prefetched while earlier ones are updated.
public struct SegmentKernel: Sendable {
    public let update: SegmentUpdate
    public let arrays: [SharedPointer]
    public init(arrays: [SharedPointer], _ update: @escaping SegmentUpdate) {
        self.update = update
        self.arrays = arrays
    }
}

/// Per-parameter state tensors with the parameter's shape, created on first use.
///
/// The state lives in a class box per parameter so that updating it never copies it (a tensor
/// reached through a dictionary subscript would not be uniquely referenced and would be copied
/// on every write — a whole embedding table's worth of optimizer state per step).
struct OptimizerSlots {
    final class Box {
        var tensors: [Tensor]
        var pointers: [SharedPointer]
        var steps = 0
        /// Per row of an embedding table: the step through which the row is up to date (deferred
        /// updates); nil until a deferring optimizer asks for it.
        private(set) var rowSteps: UnsafeMutablePointer<Int32>?
        private(set) var rows = 0
        /// Per step (1-based): the scalar weight of a zero-gradient step in a deferred catch-up.
        private(set) var stepWeights: UnsafeMutablePointer<Float>
        private(set) var stepWeightCount = 1
        private var stepWeightCapacity = 1024

        init(count: Int, shape: [Int]) {
            tensors = (0..<count).map { _ in Tensor(shape: shape) }
            pointers = []
            for i in tensors.indices { pointers.append(SharedPointer(tensors[i].writePointer())) }
            stepWeights = .allocate(capacity: stepWeightCapacity)
            stepWeights[0] = 0
        }

        /// Creates the per-row bookkeeping (all rows "never updated").
        func trackRows(_ count: Int) {
            guard rowSteps == nil else { return }
            rows = count
            rowSteps = .allocate(capacity: count)
            rowSteps!.initialize(repeating: 0, count: count)
        }

        /// Records the catch-up weight of the next step.
        func appendStepWeight(_ w: Float) {
            if stepWeightCount == stepWeightCapacity {
                let bigger = UnsafeMutablePointer<Float>.allocate(capacity: stepWeightCapacity * 2)
                bigger.update(from: stepWeights, count: stepWeightCount)
                stepWeights.deallocate()
                stepWeights = bigger
                stepWeightCapacity *= 2
            }
            stepWeights[stepWeightCount] = w
            stepWeightCount += 1
        }

        deinit {
            rowSteps?.deallocate()
            stepWeights.deallocate()
        }
    }

    private var boxes: [ObjectIdentifier: Box] = [:]

    /// Ensures `count` zero tensors exist for `parameter`, increments its step counter and returns
    /// the state (pointers valid while the optimizer lives) and the step number (from 1).
    mutating func prepare(_ parameter: Parameter, count: Int) -> (state: [SharedPointer], step: Int) {
        let box: Box
        if let b = boxes[parameter.key] {
            box = b
        } else {
            box = Box(count: count, shape: parameter.shape)
            boxes[parameter.key] = box
        }
        box.steps += 1
        return (box.pointers, box.steps)
    }

    /// The state tensors of a parameter.
    func state(_ parameter: Parameter) -> [Tensor] { boxes[parameter.key]?.tensors ?? [] }

    /// The state box of a parameter, if it has stepped.
    func box(_ parameter: Parameter) -> Box? { boxes[parameter.key] }
}

extension Optimizer {
    /// Runs one step: for each parameter with a gradient, `makeUpdate(parameter, values)` returns
    /// the segment kernel (it is called serially, so it may create state); then all segments run,
    /// spread over the threads.
    func applySegments(
        _ parameters: [Parameter], _ gradients: Gradients,
        _ makeUpdate: (_ parameter: Parameter, _ values: SharedPointer, _ rowSparse: Bool) -> SegmentKernel
    ) {
        var kernels: [SegmentKernel] = []
        var segments: [(kernel: Int, offset: Int, gradient: UnsafePointer<Float>, count: Int)] = []
        var keepAlive: [Tensor] = []
        var total = 0
        for parameter in parameters {
            let key = parameter.key
            guard gradients.dense[key] != nil || gradients.sparse[key] != nil, parameter.value.count > 0 else { continue }
            let values = SharedPointer(parameter.value.writePointer())
            let k = kernels.count
            kernels.append(makeUpdate(parameter, values, gradients.dense[key] == nil))
            if let g = gradients.dense[key] {
                precondition(g.count == parameter.value.count,
                             "\(Self.self): gradient of shape \(g.shape) for parameter \(parameter.name) of shape \(parameter.shape)")
                keepAlive.append(g)
                var start = 0
                while start < g.count {
                    let n = Swift.min(16_384, g.count - start)
                    segments.append((k, start, g.readPointer + start, n))
                    start += n
                }
                total += g.count
            } else if let sparse = gradients.sparse[key] {
                let rows = sparse.isCoalesced ? sparse : sparse.coalesced()
                let w = rows.width
                precondition(w == parameter.shape.last && rows.tableRows == parameter.shape.first,
                             "\(Self.self): sparse gradient [\(rows.tableRows), \(w)] for parameter \(parameter.name) of shape \(parameter.shape)")
                keepAlive.append(rows.values)
                let gv = rows.values.readPointer
                for (r, row) in rows.indices.enumerated() { segments.append((k, Int(row) * w, gv + r * w, w)) }
                total += rows.indices.count * w
            }
        }
        let threads = Swift.max(1, Swift.min(threadCount, total / 8192))
        withExtendedLifetime(keepAlive) {
            let work = SegmentList(kernels: kernels, segments: segments)
            if threads == 1 {
                work.run(segments.indices)
                return
            }
            // Contiguous groups of segments with about the same number of elements.
            var bounds = [0]
            var acc = 0
            for (i, s) in segments.enumerated() {
                acc += s.count
                if acc >= total * bounds.count / threads && bounds.count < threads { bounds.append(i + 1) }
            }
            bounds.append(segments.count)
            let groups = bounds
            Parallel.forEach(groups.count - 1) { t in work.run(groups[t]..<groups[t + 1]) }
        }
    }
}

/// The segments of one step, shared read-only by the worker threads.
private final class SegmentList: @unchecked Sendable {
    let kernels: [SegmentKernel]
    let segments: [(kernel: Int, offset: Int, gradient: UnsafePointer<Float>, count: Int)]
    init(kernels: [SegmentKernel], segments: [(kernel: Int, offset: Int, gradient: UnsafePointer<Float>, count: Int)]) {
        self.kernels = kernels
        self.segments = segments
    }

    /// Runs the segments in `range` in order, prefetching the rows of the segment a few ahead
    /// (random embedding rows would otherwise stall on every cache miss).
    func run(_ range: Range<Int>) {
        let ahead = 4
        for i in range {
            if i + ahead < range.upperBound {
                let next = segments[i + ahead]
                if next.count <= 1024 {
                    for array in kernels[next.kernel].arrays { VectorKernels.prefetchForWrite(array.base + next.offset, count: next.count) }
                    VectorKernels.prefetch(next.gradient, count: next.count)
                }
            }
            let s = segments[i]
            kernels[s.kernel].update(s.offset, s.gradient, s.count)
        }
    }
}

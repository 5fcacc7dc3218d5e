import Foundation
import Synchronization

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019).
///
/// `m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  p ← p - lr·(m/(1-β₁ᵗ)) / (√(v/(1-β₂ᵗ)) + ε)`.
/// Weight decay is L2 (added to `g`) for Adam, decoupled (`p ← p - lr·λ·p`) for AdamW.
///
/// Row-sparse gradients (embedding tables) only ever update the rows a batch touched; ``sparseMode``
/// chooses what that means for the rows it did not touch.
public final class Adam: Optimizer {
    /// How an embedding table's untouched rows evolve.
    public enum SparseMode: String, Sendable, Codable, CaseIterable {
        /// Untouched rows and their moments stay frozen (PyTorch's `SparseAdam`, TensorFlow's
        /// `LazyAdam`). The second moment then averages over a row's *touches*, so frequently
        /// seen rows take much smaller steps than under dense Adam.
        case lazy
        /// The trajectory of dense Adam, computed lazily: when a row is touched again (or on
        /// ``Optimizer/synchronize(_:)``) it first applies, in closed form, the zero-gradient steps
        /// it missed: `p ← p - (Σⱼ lrⱼ·√c₂ⱼ/c₁ⱼ·(β₁/√β₂)ʲ)·m/(√v + ε)`, `m ← β₁ᵏm`, `v ← β₂ᵏv`
        /// (ε neglected inside the sum, terms beyond 256 steps (< 1e-11) dropped, weight decay not
        /// applied to missed steps). Per-step cost stays proportional to the touched rows.
        case denseEquivalent = "dense-equivalent"
    }

    public var learningRate: Float
    public var threadCount = Parallel.coreCount
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// Decoupled weight decay (AdamW) instead of L2 regularisation.
    public let decoupledWeightDecay: Bool
    public let sparseMode: SparseMode
    private var slots = OptimizerSlots()

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false, sparseMode: SparseMode = .lazy) {
        precondition(learningRate > 0, "Adam: learning rate must be positive")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.sparseMode = sparseMode
    }

    /// AdamW: Adam with decoupled weight decay (default λ = 0.01, as in PyTorch).
    public static func adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01, sparseMode: SparseMode = .lazy) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true, sparseMode: sparseMode)
    }

    public func step(_ parameters: [Parameter], gradients: Gradients) {
        let b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay, lr = learningRate
        let decoupled = decoupledWeightDecay
        // A table with deferred rows that now gets a dense gradient: bring every row up to date first.
        let denseWithDeferredRows = parameters.filter { gradients.dense[$0.key] != nil && slots.box($0)?.rowSteps != nil }
        if !denseWithDeferredRows.isEmpty { synchronize(denseWithDeferredRows) }
        defer {
            for parameter in denseWithDeferredRows {
                let box = slots.box(parameter)!
                box.rowSteps!.update(repeating: Int32(box.steps), count: box.rows)
            }
        }
        applySegments(parameters, gradients) { parameter, values, rowSparse in
            let (state, t) = slots.prepare(parameter, count: 2)
            let (m, v) = (state[0], state[1])
            let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t)))
            let c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
            let coefficients = Coefficients(b1: b1, b2: b2, eps: eps, l2: decoupled ? 0 : wd,
                                            shrink: decoupled ? 1 - lr * wd : 1, stepSize: lr / c1, rc2: 1 / c2.squareRoot())
            guard rowSparse && sparseMode == .denseEquivalent else {
                return SegmentKernel(arrays: [values, m, v]) { off, g, n in
                    Adam.update(values.base + off, g, m.base + off, v.base + off, n, coefficients)
                }
            }
            let catchUp = prepareCatchUp(parameter, step: t, learningRate: lr, c1: c1, c2: c2)
            return SegmentKernel(arrays: [values, m, v]) { off, g, n in
                let row = off / n
                catchUp.apply(row: row, through: t - 1, values: values.base + off, m: m.base + off, v: v.base + off, width: n)
                Adam.update(values.base + off, g, m.base + off, v.base + off, n, coefficients)
                catchUp.rowSteps.base[row] = Int32(t)
            }
        }
    }

    /// Applies every deferred zero-gradient step of every embedding table, so the weights equal
    /// those of dense Adam at the current step (``SparseMode/denseEquivalent`` only).
    public func synchronize(_ parameters: [Parameter]) {
        guard sparseMode == .denseEquivalent else { return }
        for parameter in parameters {
            guard let box = slots.box(parameter), box.rowSteps != nil else { continue }
            let t = box.steps
            let catchUp = CatchUp(box: box, beta1: beta1, beta2: beta2, epsilon: epsilon)
            let width = parameter.shape[1]
            let values = SharedPointer(parameter.value.writePointer())
            let (m, v) = (box.pointers[0], box.pointers[1])
            let rows = Parallel.ranges(parameter.shape[0], parts: threadCount)
            Parallel.forEach(rows.count) { part in
                for row in rows[part] {
                    let off = row * width
                    catchUp.apply(row: row, through: t, values: values.base + off, m: m.base + off, v: v.base + off, width: width)
                    catchUp.rowSteps.base[row] = Int32(t)
                }
            }
        }
    }

    /// Records step `t`'s catch-up weight and makes sure the row bookkeeping exists.
    private func prepareCatchUp(_ parameter: Parameter, step t: Int, learningRate lr: Float, c1: Float, c2: Float) -> CatchUp {
        let box = slots.box(parameter)!
        box.trackRows(parameter.shape[0])
        // The weight of a zero-gradient step s: lr_s·√c₂(s)/c₁(s).
        while box.stepWeightCount <= t { box.appendStepWeight(lr * c2.squareRoot() / c1) }
        return CatchUp(box: box, beta1: beta1, beta2: beta2, epsilon: epsilon)
    }

    /// The closed-form catch-up of a row over the steps it missed; shared read-only by the workers
    /// (each row is touched by one worker).
    struct CatchUp: @unchecked Sendable {
        let rowSteps: UnsafeMutableRowSteps
        let weights: UnsafePointer<Float>
        let ratio: Float, beta1: Float, beta2: Float, epsilon: Float
        let powers: PowerTables

        init(box: OptimizerSlots.Box, beta1: Float, beta2: Float, epsilon: Float) {
            rowSteps = UnsafeMutableRowSteps(base: box.rowSteps!)
            weights = UnsafePointer(box.stepWeights)
            ratio = beta1 / beta2.squareRoot()
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            powers = PowerTables.shared(beta1: beta1, beta2: beta2)
        }

        /// Applies the zero-gradient steps `rowSteps[row] + 1 ... through` to one row.
        @inline(__always)
        func apply(row: Int, through last: Int, values p: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                   v: UnsafeMutablePointer<Float>, width n: Int) {
            let previous = Int(rowSteps.base[row])
            let missed = last - previous
            guard previous > 0 && missed > 0 else { return }  // never updated: m = v = 0, nothing to apply
            var a: Float = 0
            var rj: Float = 1
            for j in 1...min(missed, 256) {
                rj *= ratio
                a += weights[previous + j] * rj
            }
            let (d1, d2) = powers.powers(missed)
            typealias V = SIMD16<Float>
            var i = 0
            while i + 16 <= n {
                let mv = VectorKernels.load(m + i), vv = VectorKernels.load(v + i)
                let pv = VectorKernels.load(p + i) - V(repeating: a) * mv / (VectorKernels.squareRoot(vv) + V(repeating: epsilon))
                VectorKernels.store(pv, p + i)
                VectorKernels.store(mv * V(repeating: d1), m + i)
                VectorKernels.store(vv * V(repeating: d2), v + i)
                i += 16
            }
            while i < n {
                p[i] -= a * m[i] / (v[i].squareRoot() + epsilon)
                m[i] *= d1
                v[i] *= d2
                i += 1
            }
        }
    }

    struct Coefficients: Sendable {
        let b1, b2, eps, l2, shrink, stepSize, rc2: Float
    }

    /// The fused element-wise update of `n` elements (SIMD body, scalar tail).
    @inline(__always)
    static func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, _ n: Int, _ c: Coefficients
    ) {
        typealias V = SIMD16<Float>
        var i = 0
        while i + 16 <= n {
            var pv = VectorKernels.load(p + i)
            let gv = VectorKernels.load(g + i) + V(repeating: c.l2) * pv
            let mv = V(repeating: c.b1) * VectorKernels.load(m + i) + V(repeating: 1 - c.b1) * gv
            let vv = V(repeating: c.b2) * VectorKernels.load(v + i) + V(repeating: 1 - c.b2) * (gv * gv)
            let denominator = VectorKernels.squareRoot(vv) * V(repeating: c.rc2) + V(repeating: c.eps)
            pv = pv * V(repeating: c.shrink) - V(repeating: c.stepSize) * mv / denominator
            VectorKernels.store(mv, m + i); VectorKernels.store(vv, v + i); VectorKernels.store(pv, p + i)
            i += 16
        }
        while i < n {
            let gi = g[i] + c.l2 * p[i]
            m[i] = c.b1 * m[i] + (1 - c.b1) * gi
            v[i] = c.b2 * v[i] + (1 - c.b2) * gi * gi
            p[i] = p[i] * c.shrink - c.stepSize * m[i] / (v[i].squareRoot() * c.rc2 + c.eps)
            i += 1
        }
    }
}

/// `β₁ᵏ` and `β₂ᵏ` for small `k`, precomputed (two `pow` calls per caught-up row were measurable).
final class PowerTables: @unchecked Sendable {
    static let size = 4096
    let beta1: Float, beta2: Float
    let first: [Float], second: [Float]

    init(beta1: Float, beta2: Float) {
        self.beta1 = beta1
        self.beta2 = beta2
        first = (0..<PowerTables.size).map { Float(Foundation.pow(Double(beta1), Double($0))) }
        second = (0..<PowerTables.size).map { Float(Foundation.pow(Double(beta2), Double($0))) }
    }

    @inline(__always)
    func powers(_ k: Int) -> (Float, Float) {
        if k < PowerTables.size { return (first[k], second[k]) }
        return (Float(Foundation.pow(Double(beta1), Double(k))), Float(Foundation.pow(Double(beta2), Double(k))))
    }

    private static let cache = Mutex<[String: PowerTables]>([:])

    /// One table per (β₁, β₂) pair, built once.
    static func shared(beta1: Float, beta2: Float) -> PowerTables {
        cache.withLock { tables in
            let key = "\(beta1.bitPattern):\(beta2.bitPattern)"
            if let t = tables[key] { return t }
            let t = PowerTables(beta1: beta1, beta2: beta2)
            tables[key] = t
            return t
        }
    }
}

/// The row-step bookkeeping of one table, written by the worker that owns each row.
struct UnsafeMutableRowSteps: @unchecked Sendable {
    let base: UnsafeMutablePointer<Int32>
}

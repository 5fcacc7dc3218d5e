import Foundation

/// Where each sequence of a packed batch lies: sequence `s` owns rows `starts[s] ..< starts[s + 1]`
/// of every `[tokens, width]` tensor of the batch. Packing variable-length sequences back to back
/// (instead of padding each to the longest) means no work is spent on padding.
public struct PackedSequences: Sendable, Equatable {
    /// Row boundaries: `starts[0] == 0`, non-decreasing, `starts.last == tokenCount`.
    public let starts: [Int]

    /// Sequences of the given lengths, packed in order.
    public init(lengths: [Int]) {
        var starts = [0]
        starts.reserveCapacity(lengths.count + 1)
        for n in lengths {
            precondition(n >= 0, "PackedSequences: negative length \(n)")
            starts.append(starts.last! + n)
        }
        self.starts = starts
    }

    /// The number of sequences.
    public var count: Int { starts.count - 1 }
    /// The number of tokens (rows) over all sequences.
    public var tokenCount: Int { starts.last! }
    /// The rows of sequence `s`.
    public func rows(_ s: Int) -> Range<Int> { starts[s]..<starts[s + 1] }
    /// The index of each sequence's last row (sequences must not be empty).
    public var lastRows: [Int32] {
        (0..<count).map { s in
            precondition(starts[s + 1] > starts[s], "lastRows: sequence \(s) is empty")
            return Int32(starts[s + 1] - 1)
        }
    }
    /// Calls `body(query row, the sequence's first row, the head's first column, the offset of the
    /// query's weights)` for every query row of every head, in the order the weights are stored
    /// (sequence, head, row; row `i` has `i - first + 1` weights).
    @inline(__always)
    func forEachCausalQuery(heads: Int, headWidth: Int, _ body: (_ row: Int, _ first: Int, _ column: Int, _ offset: Int) -> Void) {
        var offset = 0
        for s in 0..<count {
            let rows = self.rows(s)
            for h in 0..<heads {
                for i in rows {
                    body(i, rows.lowerBound, h * headWidth, offset)
                    offset += i - rows.lowerBound + 1
                }
            }
        }
    }

    /// The number of (query, key) pairs a causal attention head scores: `Σ n(n+1)/2`.
    var causalPairCount: Int { (0..<count).reduce(0) { let n = starts[$1 + 1] - starts[$1]; return $0 + n * (n + 1) / 2 } }
}

extension Variable {
    /// Causal multi-head attention over packed sequences: within each sequence, query row `i`
    /// attends to key rows `j ≤ i` of the same sequence, `softmax(qᵢ·kⱼ/√d)`, and returns the
    /// weighted sum of the value rows. Heads are consecutive column blocks of width `d = width/heads`.
    ///
    /// - Parameters:
    ///   - key, value: `[tokens, width]`, packed like `self` (the queries).
    ///   - dropout: in training mode, each attention weight is zeroed with this probability and the
    ///     survivors scaled by `1/(1 - dropout)` (as `torch.nn.MultiheadAttention` does).
    /// - Returns: `[tokens, width]`.
    public func packedCausalAttention(key: Variable, value: Variable, sequences: PackedSequences, heads: Int, dropout: Float = 0) -> Variable {
        Variable.checkSameTape(self, key, "packedCausalAttention"); Variable.checkSameTape(self, value, "packedCausalAttention")
        let q = self.value, k = key.value, v = value.value
        precondition(q.rank == 2 && q.shape == k.shape && q.shape == v.shape,
                     "packedCausalAttention: query, key and value must share one [tokens, width] shape; got \(q.shape), \(k.shape), \(v.shape)")
        let (tokens, width) = (q.shape[0], q.shape[1])
        precondition(sequences.tokenCount == tokens, "packedCausalAttention: sequences cover \(sequences.tokenCount) rows, tensors have \(tokens)")
        precondition(heads > 0 && width % heads == 0, "packedCausalAttention: width \(width) is not divisible by \(heads) heads")
        precondition(dropout >= 0 && dropout < 1, "packedCausalAttention: dropout must be in [0, 1), got \(dropout)")
        let dh = width / heads
        let scale = 1 / Float(dh).squareRoot()
        let pairs = sequences.causalPairCount * heads
        // Softmax weights (before dropout) and the dropout multipliers, one triangle per sequence and head.
        var probabilities = [Float](repeating: 0, count: pairs)
        let dropping = tape.isTraining && dropout > 0
        var keep = [Float](repeating: 1, count: dropping ? pairs : 0)
        if dropping {
            let survivor = 1 / (1 - dropout)
            for p in 0..<pairs { keep[p] = tape.rng.nextFloat() < dropout ? 0 : survivor }
        }
        var out = Tensor(shape: [tokens, width])
        let pq = q.readPointer, pk = k.readPointer, pv = v.readPointer, po = out.writePointer()
        probabilities.withUnsafeMutableBufferPointer { probs in
            keep.withUnsafeBufferPointer { keep in
                sequences.forEachCausalQuery(heads: heads, headWidth: dh) { i, first, column, p in
                    let weights = probs.baseAddress! + p
                    let n = i - first + 1
                    for j in 0..<n {
                        weights[j] = scale * VectorKernels.dot(pq + i * width + column, pk + (first + j) * width + column, dh)
                    }
                    Softmax.row(weights, weights, n, log: false)
                    for j in 0..<n {
                        let w = dropping ? weights[j] * keep[p + j] : weights[j]
                        if w != 0 { VectorKernels.addScaled(pv + (first + j) * width + column, w, into: po + i * width + column, dh) }
                    }
                }
            }
        }
        let (iq, ik, iv) = (id, key.id, value.id)
        return tape.record(out, inputs: [self, key, value]) { g, sink in
            var gq = Tensor(shape: q.shape), gk = Tensor(shape: k.shape), gv = Tensor(shape: v.shape)
            let pg = g.readPointer, pq = q.readPointer, pk = k.readPointer, pv = v.readPointer
            let pgq = gq.writePointer(), pgk = gk.writePointer(), pgv = gv.writePointer()
            let longest = (0..<sequences.count).map { sequences.rows($0).count }.max() ?? 0
            var dS = [Float](repeating: 0, count: longest)
            probabilities.withUnsafeBufferPointer { probs in
                keep.withUnsafeBufferPointer { keep in
                    dS.withUnsafeMutableBufferPointer { dS in
                        sequences.forEachCausalQuery(heads: heads, headWidth: dh) { i, first, column, p in
                            let weights = probs.baseAddress! + p, dw = dS.baseAddress!
                            let n = i - first + 1
                            let gi = pg + i * width + column
                            // dP'ᵢⱼ = dOᵢ·vⱼ and dVⱼ += P'ᵢⱼ·dOᵢ, where P' is the weight after dropout.
                            var dot: Float = 0
                            for j in 0..<n {
                                let r = (first + j) * width + column
                                let m = dropping ? keep[p + j] : 1
                                VectorKernels.addScaled(gi, weights[j] * m, into: pgv + r, dh)
                                dw[j] = m * VectorKernels.dot(gi, pv + r, dh)
                                dot += weights[j] * dw[j]
                            }
                            // dSᵢⱼ = Pᵢⱼ(dPᵢⱼ - Σₗ Pᵢₗ dPᵢₗ); dQᵢ += scale·Σⱼ dSᵢⱼ kⱼ; dKⱼ += scale·dSᵢⱼ qᵢ.
                            for j in 0..<n {
                                let r = (first + j) * width + column
                                let ds = scale * weights[j] * (dw[j] - dot)
                                if ds == 0 { continue }
                                VectorKernels.addScaled(pk + r, ds, into: pgq + i * width + column, dh)
                                VectorKernels.addScaled(pq + i * width + column, ds, into: pgk + r, dh)
                            }
                        }
                    }
                }
            }
            sink.accumulate(iq, gq); sink.accumulate(ik, gk); sink.accumulate(iv, gv)
        }
    }
}

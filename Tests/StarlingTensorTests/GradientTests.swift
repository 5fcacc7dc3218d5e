import StarlingTensor
import Testing

@Suite("Gradients match finite differences")
struct GradientTests {
    let checker = GradientChecker()

    @Test("broadcast add, sub, mul, div", arguments: [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]), ([4], [2, 3, 4]), ([2, 3], []),
    ])
    func broadcastArithmetic(shapes: ([Int], [Int])) {
        let a = Fixture.random(shapes.0, seed: 1), b = Fixture.positive(shapes.1, seed: 2)
        checker.check([a, b]) { $0[0] + $0[1] }
        checker.check([a, b]) { $0[0] - $0[1] }
        checker.check([a, b]) { $0[0] * $0[1] }
        checker.check([a, b]) { $0[0] / $0[1] }
    }

    @Test func factorizationMachineInteraction() {
        let e = Fixture.random([3, 4, 5], seed: 11)
        checker.check([e]) { $0[0].factorizationMachineInteraction() }
        // The value is the sum of the pairwise dot products of each row's field vectors.
        let tape = Tape(training: false, recording: false)
        let fm = tape.constant(e).factorizationMachineInteraction().value.scalars
        let x = e.scalars
        for r in 0..<3 {
            var pairs: Float = 0
            for i in 0..<4 { for j in (i + 1)..<4 { for k in 0..<5 { pairs += x[(r * 4 + i) * 5 + k] * x[(r * 4 + j) * 5 + k] } } }
            #expect(abs(fm[r] - pairs) < 1e-4)
        }
    }

    @Test func scalarOpsExpLogSquare() {
        let x = Fixture.random([3, 5], seed: 3), p = Fixture.positive([3, 5], seed: 4)
        checker.check([x]) { $0[0] * 2.5 + 1 }
        checker.check([x]) { -$0[0] - 0.5 }
        checker.check([x]) { $0[0].exp() }
        checker.check([p]) { $0[0].log() }
        checker.check([x]) { $0[0].square() }
    }

    @Test func reductions() {
        let x = Fixture.random([2, 3, 4], seed: 5)
        checker.check([x]) { $0[0].sum() }
        checker.check([x]) { $0[0].mean() }
        checker.check([x]) { $0[0].sum(alongAxis: 1) }
        checker.check([x]) { $0[0].sum(alongAxis: -1, keepingDimension: true) }
        checker.check([x]) { $0[0].sum(alongAxes: [0, 2]) }
        checker.check([x]) { $0[0].mean(alongAxis: 0) }
        checker.check([x]) { $0[0].mean(alongAxes: [1, 2], keepingDimensions: true) }
    }

    @Test func shapeOperations() {
        let x = Fixture.random([2, 3, 4], seed: 6), y = Fixture.random([2, 2, 4], seed: 7)
        checker.check([x]) { $0[0].reshaped([6, -1]) }
        checker.check([x.reshaped([6, 4])]) { $0[0].transposed() }
        checker.check([x]) { $0[0].permuted([2, 0, 1]) }
        checker.check([x, y]) { Variable.concatenate([$0[0], $0[1]], alongAxis: 1) }
        checker.check([x]) { Variable.concatenate($0[0].split(sizes: [1, 3], alongAxis: 2).reversed(), alongAxis: 2) }
        checker.check([x]) { $0[0].slice(alongAxis: 1, 1..<3) }
        checker.check([x]) { $0[0].gather([2, 0, 2, 1], alongAxis: 1) }
        checker.check([x.reshaped([6, 4])]) { $0[0].gather([5, 0, 5]) }
    }

    @Test("matmul with every transpose combination", arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(flags: (Bool, Bool)) {
        let (ta, tb) = flags
        let a = Fixture.random(ta ? [4, 3] : [3, 4], seed: 8)
        let b = Fixture.random(tb ? [5, 4] : [4, 5], seed: 9)
        checker.check([a, b]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
        // Batched, and batched against a shared matrix.
        let a3 = Fixture.random(ta ? [2, 4, 3] : [2, 3, 4], seed: 10)
        let b3 = Fixture.random(tb ? [2, 5, 4] : [2, 4, 5], seed: 11)
        checker.check([a3, b3]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
        checker.check([a3, b]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
        checker.check([a, b3]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
    }

    @Test func linear() {
        let x = Fixture.random([5, 4], seed: 12), w = Fixture.random([3, 4], seed: 13), b = Fixture.random([3], seed: 14)
        checker.check([x, w, b]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        checker.check([x, w]) { $0[0].linear(weight: $0[1], bias: nil) }
        checker.check([x.reshaped([1, 5, 4]), w, b]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
    }

    @Test func activations() {
        let x = Fixture.awayFromZero([4, 6], seed: 15)
        checker.check([x]) { $0[0].relu() }
        checker.check([x]) { $0[0].leakyRelu(slope: 0.2) }
        checker.check([x * 3]) { $0[0].sigmoid() }
        checker.check([x * 2]) { $0[0].tanh() }
        checker.check([x * 2]) { $0[0].gelu() }
        checker.check([x * 3]) { $0[0].softplus() }
        checker.check([x * 2]) { $0[0].softmax() }
        checker.check([x * 2]) { $0[0].softmax(alongAxis: 0) }
        checker.check([x * 2]) { $0[0].logSoftmax() }
        let x3 = Fixture.random([2, 3, 4], seed: 16)
        checker.check([x3]) { $0[0].logSoftmax(alongAxis: 1) }
        // Long rows exercise the SIMD exp path.
        checker.check([Fixture.random([2, 37], seed: 17, low: -3, high: 3)]) { $0[0].softmax() }
    }

    @Test func layerNorm() {
        let x = Fixture.random([3, 8], seed: 18), g = Fixture.random([8], seed: 19, low: 0.5, high: 1.5)
        let b = Fixture.random([8], seed: 20)
        checker.check([x, g, b]) { $0[0].layerNorm(gamma: $0[1], beta: $0[2]) }
    }

    @Test func attention() {
        let (b, h, t, d) = (2, 2, 3, 4)
        let q = Fixture.random([b, h, t, d], seed: 21), k = Fixture.random([b, h, t, d], seed: 22)
        let v = Fixture.random([b, h, t, 5], seed: 23)
        checker.check([q, k, v]) { $0[0].scaledDotProductAttention(key: $0[1], value: $0[2]) }
        checker.check([q, k, v]) { $0[0].scaledDotProductAttention(key: $0[1], value: $0[2], causal: true) }
        let padding = [false, false, true, false, true, true]
        checker.check([q, k, v]) { $0[0].scaledDotProductAttention(key: $0[1], value: $0[2], causal: true, keyPadding: padding) }
    }

    @Test func losses() {
        let logits = Fixture.random([6], seed: 24, low: -3, high: 3)
        let targets = Tensor([1, 0, 1, 1, 0, 0])
        checker.check([logits]) { Loss.binaryCrossEntropy(logits: $0[0], targets: targets) }
        let pos = Fixture.random([5], seed: 25), neg = Fixture.random([5], seed: 26)
        checker.check([pos, neg]) { Loss.bpr(positive: $0[0], negative: $0[1]) }
        checker.check([pos]) { Loss.meanSquaredError(predictions: $0[0], targets: neg) }
        let scores = Fixture.random([4, 5], seed: 27, low: -2, high: 2)
        checker.check([scores]) { Loss.softmaxCrossEntropy(logits: $0[0], targets: [1, 4, -1, 0]) }
        let logQ = Fixture.random([5], seed: 28, low: -3, high: -1)
        var mask = Tensor(shape: [4, 5])
        mask[1, 2] = -1e9
        checker.check([scores]) { Loss.sampledSoftmaxCrossEntropy(logits: $0[0], targets: [0, 0, 0, 0], logQ: logQ, mask: mask) }
    }
}

@Suite("Packed causal attention")
struct PackedAttentionTests {
    let checker = GradientChecker()

    @Test func gradientsMatchFiniteDifferences() {
        let sequences = PackedSequences(lengths: [3, 1, 2])
        let q = Fixture.random([6, 4], seed: 31), k = Fixture.random([6, 4], seed: 32), v = Fixture.random([6, 4], seed: 33)
        checker.check([q, k, v]) { $0[0].packedCausalAttention(key: $0[1], value: $0[2], sequences: sequences, heads: 2) }
        checker.check([q, k, v]) { $0[0].packedCausalAttention(key: $0[1], value: $0[2], sequences: sequences, heads: 1) }
    }

    /// Each packed sequence gets exactly what causal attention over that sequence alone gives.
    @Test func equalsCausalAttentionOverEachSequenceAlone() {
        let lengths = [4, 2, 5]
        let sequences = PackedSequences(lengths: lengths)
        let (heads, width) = (2, 6), dh = 3
        let q = Fixture.random([11, width], seed: 34), k = Fixture.random([11, width], seed: 35), v = Fixture.random([11, width], seed: 36)
        let tape = Tape(training: false, recording: false)
        let packed = tape.constant(q).packedCausalAttention(key: tape.constant(k), value: tape.constant(v), sequences: sequences, heads: heads).value
        for s in 0..<sequences.count {
            let rows = sequences.rows(s), n = rows.count
            func heads4(_ t: Tensor) -> Variable {
                tape.constant(t.slice(alongAxis: 0, rows).reshaped([1, n, heads, dh]).permuted([0, 2, 1, 3]))
            }
            let alone = heads4(q).scaledDotProductAttention(key: heads4(k), value: heads4(v), causal: true)
                .value.permuted([0, 2, 1, 3]).reshaped([n, width])
            #expect(packed.slice(alongAxis: 0, rows).isClose(to: alone, absolute: 1e-6, relative: 1e-5), "sequence \(s)")
        }
    }

    /// In training mode the attention weights are dropped (some outputs change) and the survivors
    /// rescaled, deterministically for a tape seed; evaluation mode ignores the rate.
    @Test func dropoutActsOnlyInTraining() {
        let sequences = PackedSequences(lengths: [5, 3])
        let q = Fixture.random([8, 4], seed: 37), k = Fixture.random([8, 4], seed: 38), v = Fixture.random([8, 4], seed: 39)
        func run(training: Bool, seed: UInt64) -> Tensor {
            let tape = Tape(training: training, seed: seed, recording: false)
            return tape.constant(q).packedCausalAttention(key: tape.constant(k), value: tape.constant(v), sequences: sequences, heads: 1, dropout: 0.5).value
        }
        let plain: Tensor = {
            let tape = Tape(training: false, recording: false)
            return tape.constant(q).packedCausalAttention(key: tape.constant(k), value: tape.constant(v), sequences: sequences, heads: 1).value
        }()
        #expect(run(training: false, seed: 1).isIdentical(to: plain))
        #expect(run(training: true, seed: 1).isIdentical(to: run(training: true, seed: 1)))
        #expect(!run(training: true, seed: 1).isClose(to: plain))
    }
}

import StarlingTensor
import Testing

@Suite("Tape behaviour")
struct AutogradBehaviourTests {
    @Test func dropoutScalesSurvivorsAndIsIdentityInEvaluation() {
        let x = Tensor(shape: [10_000], repeating: 1)
        let train = Tape(training: true, seed: 5)
        let v = train.input(x)
        let y = v.dropout(rate: 0.25)
        let kept = y.value.scalars.filter { $0 != 0 }
        #expect(abs(Float(kept.count) / 10_000 - 0.75) < 0.02)
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        // The gradient is the same mask.
        let g = train.gradients(of: y.sum(), withRespectTo: [v])[0]!
        #expect(g.isIdentical(to: y.value))
        // Same seed, same mask.
        let again = Tape(training: true, seed: 5)
        #expect(again.input(x).dropout(rate: 0.25).value.isIdentical(to: y.value))
        let eval = Tape(training: false)
        #expect(eval.input(x).dropout(rate: 0.25).value.isIdentical(to: x))
    }

    @Test func gradientsAccumulateOverReuse() {
        let p = Parameter(name: "w", value: Tensor([2, 3]))
        let tape = Tape()
        let w = tape.parameter(p)
        let w2 = tape.parameter(p)   // same binding
        let loss = (w * w2).sum() + w.sum()
        #expect(tape.gradients(of: loss)[p]!.scalars == [5, 7])
    }

    @Test func constantsGetNoGradientAndInferenceTapesRecordNothing() {
        let tape = Tape()
        let c = tape.constant(Tensor([1, 2]))
        let x = tape.input(Tensor([3, 4]))
        let grads = tape.gradients(of: (c * x).sum(), withRespectTo: [c, x])
        #expect(grads[0] == nil)
        #expect(grads[1]!.scalars == [1, 2])
        let inference = Tape(recording: false)
        let y = inference.input(Tensor([1])).exp()
        #expect(abs(y.value.scalar - 2.7182817) < 1e-6)
    }

    @Test func multiHeadAttentionKeepsShapeAndRespectsCausality() {
        var rng = RandomGenerator(seed: 11)
        let mha = MultiHeadAttention(dimension: 8, heads: 2, name: "attn", rng: &rng)
        let x = Tensor.normal(shape: [1, 4, 8], using: &rng)
        let tape = Tape(recording: false)
        let y = mha(tape.constant(x), causal: true).value
        #expect(y.shape == [1, 4, 8])
        // Changing the last position must not change earlier outputs under a causal mask.
        var x2 = x
        for k in 0..<8 { x2[0, 3, k] += 1 }
        let y2 = mha(tape.constant(x2), causal: true).value
        #expect(y.slice(alongAxis: 1, 0..<3).isClose(to: y2.slice(alongAxis: 1, 0..<3)))
        #expect(!y.slice(alongAxis: 1, 3..<4).isClose(to: y2.slice(alongAxis: 1, 3..<4)))
        #expect(mha.parameters.count == 8)
    }
}

import CIntrinsics
import StarlingTensor
import Testing

@Suite("Int8 kernel")
struct Int8KernelTests {
    /// The vectorised float × int8 dot product equals the plain sum for every length around the
    /// vector widths (8 and 16 lanes), so the tail handling is covered.
    @Test func floatTimesInt8DotMatchesScalarSum() {
        var rng = RandomGenerator(seed: 11)
        for d in 0...70 {
            let q = (0..<d).map { _ in rng.nextFloat() * 2 - 1 }
            let codes = (0..<d).map { _ in Int8(truncatingIfNeeded: Int(rng.nextFloat() * 254) - 127) }
            var expected: Float = 0
            for i in 0..<d { expected += q[i] * Float(codes[i]) }
            let got = q.withUnsafeBufferPointer { qp in
                codes.withUnsafeBufferPointer { cp in starling_dot_f32_i8(qp.baseAddress!, cp.baseAddress!, d) }
            }
            #expect(abs(got - expected) <= 1e-3 * max(1, abs(expected)), "d = \(d): \(got) vs \(expected)")
        }
    }
}

import StarlingTensor
import Testing

@Suite("Tensor values and kernels")
struct TensorTests {
    @Test func constructionChecksScalarCount() {
        #expect(throws: TensorError.scalarCountMismatch(shape: [2, 3], expected: 6, actual: 5)) {
            try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        #expect(throws: TensorError.invalidShape([2, -1])) { try Tensor(shape: [2, -1], scalars: []) }
        let t = try! Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t[1, 2] == 6)
        #expect(t.reshaped([3, -1]).shape == [3, 2])
    }

    @Test func shapeMismatchStopsWithAClearMessage() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor(shape: [2, 3]).matmul(Tensor(shape: [2, 3]))
        }
        await #expect(processExitsWith: .failure) {
            _ = Tensor(shape: [2, 3]) + Tensor(shape: [4])
        }
    }

    @Test func copyOnWriteKeepsValuesIndependent() {
        let a = Tensor([1, 2, 3])
        var b = a
        b[0] = 10
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 2, 3])
    }

    @Test func broadcastingMatchesHandComputedValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect((a + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor([2, 3], shape: [2, 1])).scalars == [2, 4, 6, 12, 15, 18])
        #expect((Tensor([1, 2], shape: [2, 1, 1]) - Tensor([1, 1, 1], shape: [1, 3])).shape == [2, 1, 3])
        #expect((a / Tensor(scalar: 2)).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        // Long rows go through the SIMD body and the scalar tail.
        let long = Tensor((0..<37).map(Float.init), shape: [1, 37])
        #expect((long + long).scalars == (0..<37).map { Float(2 * $0) })
    }

    @Test func reductionsAndShapes() {
        let a = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        #expect(a.sum(alongAxis: 1).scalars == [12, 15, 18, 21, 48, 51, 54, 57])
        #expect(a.sum(alongAxes: [0, 2]).scalars == [60, 92, 124])
        #expect(a.mean(alongAxis: 2).scalars == [1.5, 5.5, 9.5, 13.5, 17.5, 21.5])
        #expect(Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]).sum(toShape: [2]).scalars == [9, 12])
        let p = a.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p[3, 1, 2] == a[1, 2, 3])
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(m.transposed().scalars == [1, 4, 2, 5, 3, 6])
        let c = Tensor.concatenate([m, Tensor([7, 8], shape: [2, 1])], alongAxis: 1)
        #expect(c.scalars == [1, 2, 3, 7, 4, 5, 6, 8])
        #expect(c.slice(alongAxis: 1, 2..<4).scalars == [3, 7, 6, 8])
        #expect(m.gather([1, 1, 0]).scalars == [4, 5, 6, 4, 5, 6, 1, 2, 3])
    }

    @Test func matmulMatchesNaiveProduct() {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.normal(shape: [7, 5], using: &rng), b = Tensor.normal(shape: [5, 3], using: &rng)
        var naive = Tensor(shape: [7, 3])
        for i in 0..<7 { for j in 0..<3 { var s: Float = 0; for k in 0..<5 { s += a[i, k] * b[k, j] }; naive[i, j] = s } }
        #expect(a.matmul(b).isClose(to: naive))
        #expect(a.transposed().matmul(b, transposeSelf: true).isClose(to: naive))
        #expect(a.matmul(b.transposed(), transposeOther: true).isClose(to: naive))
    }

    @Test func vectorisedExpIsAccurate() {
        var worst: Float = 0
        for i in 0..<4000 {
            let x = Float(i - 2000) / 25
            let v = VectorKernels.exp(SIMD16(repeating: x))[0]
            let r = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(v - r) / r)
        }
        #expect(worst < 5e-7)
        #expect(VectorKernels.exp(SIMD16(repeating: -200))[3] == 0)
        #expect(VectorKernels.exp(SIMD16(repeating: 200))[3] == .infinity)
    }

    @Test func initialisersHaveTheDocumentedScale() {
        var rng = RandomGenerator(seed: 3)
        let w = Tensor.xavierUniform(shape: [200, 300], using: &rng)
        let bound = (6 / Float(500)).squareRoot()
        #expect(w.scalars.allSatisfy { abs($0) <= bound })
        let n = Tensor.normal(shape: [100_000], standardDeviation: 0.5, using: &rng)
        let mean = n.sum / Float(n.count)
        let sd = (n.squaredNorm / Float(n.count) - mean * mean).squareRoot()
        #expect(abs(mean) < 0.01 && abs(sd - 0.5) < 0.01)
        let he = Tensor.heNormal(shape: [64, 1000], using: &rng)
        #expect(abs((he.squaredNorm / Float(he.count)).squareRoot() - (2 / Float(1000)).squareRoot()) < 0.002)
    }

    @Test func randomGeneratorIsDeterministicAndUniform() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let sa = (0..<5).map { _ in a.next() }, sb = (0..<5).map { _ in b.next() }
        #expect(sa == sb)
        #expect(sa != (0..<5).map { _ in c.next() })
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[a.nextInt(below: 10)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
        var arr = Array(0..<10)
        var r1 = RandomGenerator(seed: 9)
        r1.shuffle(&arr)
        #expect(Set(arr) == Set(0..<10) && arr != Array(0..<10))
    }

    @Test func choleskySolvesASymmetricPositiveDefiniteSystem() throws {
        // A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0]
        var a: [Float] = [4, 2, 2, 3]
        var rhs: [Float] = [2, 1, 8, 7]  // two right-hand sides as rows
        try a.withUnsafeMutableBufferPointer { ap in
            try LAPACK.choleskyFactor(ap.baseAddress!, n: 2)
            try rhs.withUnsafeMutableBufferPointer { bp in
                try LAPACK.solveCholesky(factor: ap.baseAddress!, n: 2, rhs: bp.baseAddress!, count: 2)
            }
        }
        #expect(abs(rhs[0] - 0.5) < 1e-6 && abs(rhs[1]) < 1e-6)
        #expect(abs(rhs[2] - 1.25) < 1e-5 && abs(rhs[3] - 1.5) < 1e-5)
        var inv: [Float] = [4, 2, 2, 3]
        try inv.withUnsafeMutableBufferPointer { try LAPACK.invertSymmetricPositiveDefinite($0.baseAddress!, n: 2) }
        #expect(zip(inv, [0.375, -0.25, -0.25, 0.5]).allSatisfy { abs($0 - $1) < 1e-6 })
        var bad: [Float] = [1, 2, 2, 1]
        #expect(throws: LAPACK.Failure.self) {
            try bad.withUnsafeMutableBufferPointer { try LAPACK.choleskyFactor($0.baseAddress!, n: 2) }
        }
    }
}

import Foundation

@Suite("Large-buffer cache")
struct BufferCacheTests {
    @Test func freedLargeBuffersAreReusedAndStillInitialised() {
        let before = BufferCache.statistics
        do {
            var big = Tensor(shape: [1 << 19], repeating: 3)  // 2 MB
            big[0] = 7
            #expect(big.sum == Float((1 << 19) - 1) * 3 + 7)
        }
        let again = Tensor(shape: [1 << 19], repeating: 0)
        #expect(BufferCache.statistics.hits > before.hits, "a freed 2 MB buffer should be reused")
        #expect(again.sum == 0 && again[0] == 0)
        _ = Tensor(shape: [10])  // small buffers bypass the cache
    }
}

@Suite("Top-K selection")
struct TopKTests {
    @Test func selectsTheLargestWithDeterministicTiesAndExclusions() {
        let scores: [Float] = [0.5, 2, .nan, 2, -1, 7, 0.5, 3]
        let top = scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: scores.count, k: 4) }
        #expect(top.map(\.index) == [5, 7, 1, 3])  // 2 and 2 tie: lower index first
        let excluded = scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: scores.count, k: 3, excluding: [1, 5]) }
        #expect(excluded.map(\.index) == [7, 3, 0])
        let all = scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: scores.count, k: 100) }
        #expect(all.count == 7)  // NaN is never selected
        // Against a full sort on random data.
        var rng = RandomGenerator(seed: 5)
        let many = (0..<5000).map { _ in Float(rng.nextInt(below: 300)) }
        let expected = many.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }.prefix(50).map { Int32($0.offset) }
        #expect(many.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: many.count, k: 50) }.map(\.index) == expected)
    }
}

import StarlingTensor
import Testing

@Suite("Embedding lookups give row-sparse gradients")
struct EmbeddingTests {
    /// The dense gradient of `loss(table)` by finite differences.
    func numericTableGradient(_ table: Tensor, _ loss: (Tensor) -> Double, epsilon: Float = 5e-3) -> Tensor {
        var g = Tensor(shape: table.shape)
        for i in 0..<table.count {
            var plus = table, minus = table
            plus.withUnsafeMutableBufferPointer { $0[i] += epsilon }
            minus.withUnsafeMutableBufferPointer { $0[i] -= epsilon }
            g.withUnsafeMutableBufferPointer { $0[i] = Float((loss(plus) - loss(minus)) / Double(2 * epsilon)) }
        }
        return g
    }

    func projectedLoss(_ out: Variable, _ r: Tensor) -> Variable { (out * r).sum() }

    @Test func lookupGradientIsSparseAndCorrect() {
        let tableValue = Fixture.random([6, 3], seed: 30)
        let indices: [Int32] = [4, 1, 4, 0]
        let r = Fixture.random([4, 3], seed: 31)
        let table = Parameter(name: "t", value: tableValue, isEmbeddingTable: true)
        let tape = Tape()
        let grads = tape.gradients(of: projectedLoss(tape.embedding(table, indices: indices), r))
        let sparse = try! #require(grads.sparse[table.key])
        #expect(grads.dense[table.key] == nil)
        #expect(sparse.indices == indices)
        #expect(Set(sparse.coalesced().indices) == [0, 1, 4])
        let numeric = numericTableGradient(tableValue) { t in
            let p = Parameter(name: "t", value: t, isEmbeddingTable: true)
            let tp = Tape(recording: false)
            return Double(projectedLoss(tp.embedding(p, indices: indices), r).value.scalar)
        }
        #expect(sparse.densified().isClose(to: numeric, absolute: 3e-3, relative: 2e-2))
    }

    @Test(arguments: [BagReduction.sum, .mean])
    func embeddingBagGradient(reduction: BagReduction) {
        let tableValue = Fixture.random([7, 4], seed: 32)
        let indices: [Int32] = [1, 2, 2, 6, 0, 3]
        let offsets = [0, 3, 3, 4]          // bags: {1,2,2}, {}, {6}, {0,3}
        let weights: [Float] = [0.5, 1, 2, 1, -1, 3]
        let r = Fixture.random([4, 4], seed: 33)
        func forward(_ t: Tensor, _ tape: Tape) -> Variable {
            let p = Parameter(name: "t", value: t, isEmbeddingTable: true)
            return projectedLoss(tape.embeddingBag(p, indices: indices, offsets: offsets, reduction: reduction, weights: weights), r)
        }
        let table = Parameter(name: "t", value: tableValue, isEmbeddingTable: true)
        let tape = Tape()
        let out = tape.embeddingBag(table, indices: indices, offsets: offsets, reduction: reduction, weights: weights)
        // The empty bag is all zeros.
        #expect(out.value.slice(alongAxis: 0, 1..<2).scalars == [0, 0, 0, 0])
        let grads = tape.gradients(of: projectedLoss(out, r))
        let numeric = numericTableGradient(tableValue) { Double(forward($0, Tape(recording: false)).value.scalar) }
        #expect(grads.sparse[table.key]!.densified().isClose(to: numeric, absolute: 3e-3, relative: 2e-2))
    }

    @Test func coalescingSumsDuplicatesDeterministically() {
        let rows = SparseRows(indices: [3, 1, 3, 0], values: Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [4, 2]), tableRows: 5)
        let c = rows.coalesced()
        #expect(c.indices == [0, 1, 3])
        #expect(c.values.scalars == [7, 8, 3, 4, 6, 8])
        #expect(c.densified().isIdentical(to: rows.densified()))
    }

    @Test func tableUsedDenselyAndSparselyGetsOneDenseGradient() {
        let table = Parameter(name: "t", value: Fixture.random([4, 2], seed: 34), isEmbeddingTable: true)
        let tape = Tape()
        let looked = tape.embedding(table, indices: [2])
        let all = tape.parameter(table)
        let loss = looked.sum() + all.sum()
        let g = tape.gradients(of: loss)
        #expect(g.sparse[table.key] == nil)
        #expect(g.dense[table.key]!.scalars == [1, 1, 1, 1, 2, 2, 1, 1])
    }
}

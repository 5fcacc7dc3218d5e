import StarlingTensor
import Testing
import Foundation

@Suite("Optimizers, clipping and schedules")
struct OptimizerTests {
    func gradients(_ p: Parameter, _ g: Tensor) -> Gradients {
        var grads = Gradients()
        grads.dense[p.key] = g
        return grads
    }

    @Test func sgdWithMomentumMatchesTheFormula() {
        let p = Parameter(name: "p", value: Tensor([1, -1]))
        let opt = SGD(learningRate: 0.1, momentum: 0.9)
        opt.step([p], gradients: gradients(p, Tensor([1, 2])))      // v = g
        #expect(p.value.isClose(to: Tensor([0.9, -1.2])))
        opt.step([p], gradients: gradients(p, Tensor([1, 2])))      // v = 0.9 g + g
        #expect(p.value.isClose(to: Tensor([0.9 - 0.19, -1.2 - 0.38])))
    }

    @Test func adamMatchesAReferenceImplementation() {
        let p = Parameter(name: "p", value: Tensor([0.5, -0.3, 2]))
        let opt = Adam(learningRate: 0.01, weightDecay: 0.1)
        var ref = [Double](arrayLiteral: 0.5, -0.3, 2), m = [Double](repeating: 0, count: 3), v = m
        for t in 1...5 {
            let g = (0..<3).map { Float(sin(Double($0 + t))) }
            opt.step([p], gradients: gradients(p, Tensor(g)))
            for i in 0..<3 {
                let gi = Double(g[i]) + 0.1 * ref[i]
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.999, Double(t)))
                ref[i] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
            }
        }
        #expect(p.value.isClose(to: Tensor(ref.map(Float.init)), absolute: 1e-5))
    }

    @Test func adamWDecaysWeightsDecoupled() {
        let p = Parameter(name: "p", value: Tensor([1]))
        let opt = Adam.adamW(learningRate: 0.1, weightDecay: 0.5)
        opt.step([p], gradients: gradients(p, Tensor([0])))
        // Zero gradient: only the decay acts, p ← p(1 - lr·λ).
        #expect(abs(p.value.scalar - 0.95) < 1e-6)
    }

    @Test func adagradMatchesTheFormula() {
        let p = Parameter(name: "p", value: Tensor([1]))
        let opt = Adagrad(learningRate: 0.5)
        opt.step([p], gradients: gradients(p, Tensor([2])))
        opt.step([p], gradients: gradients(p, Tensor([1])))
        let expected: Float = 1 - 0.5 * 2 / 2 - 0.5 * 1 / Float(5).squareRoot()
        #expect(abs(p.value.scalar - expected) < 1e-5)
    }

    @Test("sparse updates touch only looked-up rows, and equal the dense update on those rows",
          arguments: ["sgd", "adagrad", "adam", "adamw"])
    func sparseUpdatesAreLazy(kind: String) {
        func make() -> Optimizer {
            switch kind {
            case "sgd": return SGD(learningRate: 0.1, momentum: 0.9)
            case "adagrad": return Adagrad(learningRate: 0.1)
            case "adam": return Adam(learningRate: 0.1)
            default: return Adam.adamW(learningRate: 0.1, weightDecay: 0.1)
            }
        }
        let initial = Fixture.random([5, 3], seed: 40)
        let sparseTable = Parameter(name: "t", value: initial, isEmbeddingTable: true)
        let denseTable = Parameter(name: "t", value: initial)
        let sparseOpt = make(), denseOpt = make()
        for step in 0..<3 {
            let indices: [Int32] = step == 1 ? [0, 0] : [1, 3, 1]
            let rows = Fixture.random([indices.count, 3], seed: UInt64(50 + step))
            var sg = Gradients()
            sg.sparse[sparseTable.key] = SparseRows(indices: indices, values: rows, tableRows: 5)
            sparseOpt.step([sparseTable], gradients: sg)
            if step == 0 {
                var dg = Gradients()
                dg.dense[denseTable.key] = SparseRows(indices: indices, values: rows, tableRows: 5).densified()
                denseOpt.step([denseTable], gradients: dg)
                // After the first step both optimizers agree on the touched rows.
                for r in [1, 3] {
                    #expect(sparseTable.value.slice(alongAxis: 0, r..<r + 1)
                        .isClose(to: denseTable.value.slice(alongAxis: 0, r..<r + 1), absolute: 1e-6))
                }
            }
        }
        // Rows 2 and 4 were never looked up: unchanged, even under weight decay.
        for r in [2, 4] {
            #expect(sparseTable.value.slice(alongAxis: 0, r..<r + 1).isIdentical(to: initial.slice(alongAxis: 0, r..<r + 1)))
        }
        #expect(!sparseTable.value.slice(alongAxis: 0, 0..<1).isIdentical(to: initial.slice(alongAxis: 0, 0..<1)))
    }

    /// Dense-equivalent sparse Adam follows dense Adam (which also moves untouched rows on their
    /// momentum) while only ever touching the rows a step has gradients for.
    @Test(arguments: [false, true])
    func denseEquivalentSparseAdamFollowsDenseAdam(adamW: Bool) {
        let rows = 9, width = 21  // 21: the SIMD body and the scalar tail
        let initial = Fixture.random([rows, width], seed: 60)
        let sparseTable = Parameter(name: "t", value: initial, isEmbeddingTable: true)
        let denseTable = Parameter(name: "t", value: initial)
        func make(_ mode: Adam.SparseMode) -> Adam {
            adamW ? Adam.adamW(learningRate: 0.01, weightDecay: 0, sparseMode: mode) : Adam(learningRate: 0.01, sparseMode: mode)
        }
        let sparseOpt = make(.denseEquivalent), denseOpt = make(.lazy), lazyOpt = make(.lazy)
        let lazyTable = Parameter(name: "t", value: initial, isEmbeddingTable: true)
        var rng = RandomGenerator(seed: 61)
        for step in 1...60 {
            var touched = (0..<rows).filter { _ in rng.nextInt(below: 4) == 0 }.map(Int32.init)
            if step == 1 { touched = [0, 1, 2] }
            if touched.isEmpty { touched = [Int32(rng.nextInt(below: rows))] }
            let values = Tensor.uniform(shape: [touched.count, width], low: -1, high: 1, using: &rng)
            let rowsGrad = SparseRows(indices: touched, values: values, tableRows: rows)
            var sg = Gradients()
            if step == 40 {
                sg.dense[sparseTable.key] = rowsGrad.densified()  // the table once used densely
            } else {
                sg.sparse[sparseTable.key] = rowsGrad
            }
            sparseOpt.step([sparseTable], gradients: sg)
            var lg = Gradients()
            lg.sparse[lazyTable.key] = rowsGrad
            lazyOpt.step([lazyTable], gradients: lg)
            var dg = Gradients()
            dg.dense[denseTable.key] = rowsGrad.densified()
            denseOpt.step([denseTable], gradients: dg)
            if step == 25 || step == 60 {
                sparseOpt.synchronize([sparseTable])
                #expect(sparseTable.value.isClose(to: denseTable.value, absolute: 2e-5, relative: 1e-4), "step \(step)")
            }
        }
        // The lazy variant really is different (untouched rows froze).
        #expect(!lazyTable.value.isClose(to: denseTable.value, absolute: 1e-3, relative: 1e-3))
    }

    @Test func globalNormClippingScalesEverything() {
        let a = Parameter(name: "a", value: Tensor([0, 0])), b = Parameter(name: "b", value: Tensor(shape: [3, 1]), isEmbeddingTable: true)
        var g = Gradients()
        g.dense[a.key] = Tensor([3, 0])
        g.sparse[b.key] = SparseRows(indices: [1, 1], values: Tensor([2, 2], shape: [2, 1]), tableRows: 3)  // coalesces to 4
        let norm = g.clipGlobalNorm(to: 1)
        #expect(abs(norm - 5) < 1e-5)
        #expect(abs(g.globalNorm() - 1) < 1e-4)
        #expect(g.dense[a.key]!.isClose(to: Tensor([0.6, 0]), absolute: 1e-4))
    }

    @Test func schedules() {
        let warm = WarmupSchedule(base: ConstantSchedule(rate: 1), warmupSteps: 4)
        #expect([0, 1, 3, 4, 100].map { warm.learningRate(at: $0) } == [0.25, 0.5, 1, 1, 1])
        let stepDecay = StepDecaySchedule(rate: 1, stepSize: 10, gamma: 0.5)
        #expect(stepDecay.learningRate(at: 9) == 1 && stepDecay.learningRate(at: 25) == 0.25)
        let cosine = CosineSchedule(rate: 1, totalSteps: 100, minimumRate: 0.1)
        #expect(abs(cosine.learningRate(at: 0) - 1) < 1e-6)
        #expect(abs(cosine.learningRate(at: 50) - 0.55) < 1e-6)
        #expect(abs(cosine.learningRate(at: 200) - 0.1) < 1e-6)
        let warmCosine = WarmupSchedule(base: cosine, warmupSteps: 10)
        #expect(warmCosine.learningRate(at: 4) == 0.5)
        #expect(abs(warmCosine.learningRate(at: 60) - 0.55) < 1e-6)
    }

    @Test func trainingALinearModelConverges() {
        // y = 3x - 1 with noise-free data: Adam on MSE finds it.
        var rng = RandomGenerator(seed: 4)
        let x = Tensor.uniform(shape: [64, 1], low: -1, high: 1, using: &rng)
        let y = x * 3 + (-1)
        let layer = Linear(inputs: 1, outputs: 1, name: "l", rng: &rng)
        let opt = Adam(learningRate: 0.05)
        for _ in 0..<400 {
            let tape = Tape()
            let loss = Loss.meanSquaredError(predictions: layer(tape.constant(x)), targets: y)
            let g = tape.gradients(of: loss)
            opt.step(layer.parameters, gradients: g)
        }
        #expect(abs(layer.weight.value.scalar - 3) < 0.01)
        #expect(abs(layer.bias!.value.scalar + 1) < 0.01)
    }
}

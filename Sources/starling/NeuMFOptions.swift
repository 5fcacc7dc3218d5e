import ArgumentParser
import StarlingModels
import StarlingTensor

extension NeuMF.Variant: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "neumf": self = .neuMF
        case "gmf": self = .gmf
        case "mlp": self = .mlp
        default: return nil
        }
    }
}

extension PointwiseTrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
extension Adam.SparseMode: ExpressibleByArgument {}

/// NeuMF architecture and training options shared by `train`, `quickstart` and `bench`.
struct NeuMFOptions: ParsableArguments {
    @Option(help: "Towers: neumf, gmf or mlp.") var variant: NeuMF.Variant = .neuMF
    @Option(help: "Predictive factors (8, 16, 32, 64 in the paper).") var factors = 32
    @Option(help: "MLP layers (widths halve down to the factors).") var layers = 3
    @Option(help: "Dropout after each MLP layer.") var dropout: Float = 0
    @Option(help: "Training epochs.") var epochs = 20
    @Option(name: .customLong("batch-size"), help: "Examples per step.") var batchSize = 256
    @Option(help: "Sampled negatives per positive.") var negatives = 4
    @Option(name: .customLong("learning-rate"), help: "Optimizer step size.") var learningRate: Float = 0.001
    @Option(help: "adam, adamw, sgd or adagrad.") var optimizer: PointwiseTrainingConfiguration.OptimizerKind = .adam
    @Option(name: .customLong("sparse-adam"), help: "Embedding rows a step did not touch: dense-equivalent (dense Adam's trajectory, computed lazily) or lazy (frozen, like PyTorch's SparseAdam).")
    var sparseAdam: Adam.SparseMode = .denseEquivalent
    @Flag(name: .customLong("cosine-decay"), help: "Cosine learning-rate decay over the run.") var cosineDecay = false
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Worker threads (default: all cores).") var threads = Parallel.coreCount

    func modelConfiguration(users: Int, items: Int, variant: NeuMF.Variant? = nil) -> NeuMF.Configuration {
        NeuMF.Configuration(variant: variant ?? self.variant, userCount: users, itemCount: items,
                            factors: factors, layers: layers, dropout: dropout)
    }

    var trainingConfiguration: PointwiseTrainingConfiguration {
        var c = PointwiseTrainingConfiguration()
        c.epochs = epochs
        c.batchSize = batchSize
        c.negativesPerPositive = negatives
        c.learningRate = learningRate
        c.optimizer = optimizer
        c.cosineDecay = cosineDecay
        c.sparseMode = sparseAdam
        c.seed = seed
        c.threads = threads
        return c
    }
}

import ArgumentParser
import StarlingModels
import StarlingTensor

/// Options shared by the click models' training commands.
struct ClickTrainingOptions: ParsableArguments {
    @Option(name: .customLong("embedding-width"), help: "Width of each field embedding (default: the model's paper value).")
    var embeddingWidth: Int?
    @Option(parsing: .upToNextOption, help: "Hidden layer widths of the deep part (default: the model's paper value).")
    var hidden: [Int] = []
    @Option(help: "Dropout after each hidden layer (default: the model's paper value).") var dropout: Float?
    @Option(help: "MMoE: the number of experts.") var experts = 4
    @Option(help: "Epochs.") var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Mini-batch size.") var batchSize = 256
    @Option(name: .customLong("learning-rate"), help: "Learning rate.") var learningRate: Float = 0.001
    @Option(help: "Optimizer: adam, adagrad, sgd.") var optimizer: ClickTrainingConfiguration.OptimizerKind = .adam
    @Option(name: .customLong("weight-decay"), help: "L2 penalty on the weights a step touches.") var weightDecay: Float = 0
    @Option(help: "Stop after this many epochs without a better validation AUC and keep the best epoch (0: keep the last).")
    var patience = 2
    @Option(help: "Seed of initialisation, shuffling and dropout.") var seed: UInt64 = 42
    @Option(help: "Training threads.") var threads = Parallel.coreCount

    var trainingConfiguration: ClickTrainingConfiguration {
        var c = ClickTrainingConfiguration()
        c.epochs = epochs
        c.batchSize = batchSize
        c.learningRate = learningRate
        c.optimizer = optimizer
        c.weightDecay = weightDecay
        c.patience = patience
        c.seed = seed
        c.threads = threads
        return c
    }

    var deepFM: DeepFM.Configuration {
        var c = DeepFM.Configuration()
        if let embeddingWidth { c.embeddingWidth = embeddingWidth }
        if !hidden.isEmpty { c.hiddenLayers = hidden }
        if let dropout { c.dropout = dropout }
        return c
    }

    var wideAndDeep: WideAndDeep.Configuration {
        var c = WideAndDeep.Configuration()
        if let embeddingWidth { c.embeddingWidth = embeddingWidth }
        if !hidden.isEmpty { c.hiddenLayers = hidden }
        if let dropout { c.dropout = dropout }
        return c
    }
}

extension ClickTrainingConfiguration.OptimizerKind: ExpressibleByArgument {}

extension ClickTrainingOptions {
    /// `--hidden` is the shared bottom's layers.
    var sharedBottom: SharedBottom.Configuration {
        var c = SharedBottom.Configuration()
        if let embeddingWidth { c.embeddingWidth = embeddingWidth }
        if !hidden.isEmpty { c.bottomLayers = hidden }
        if let dropout { c.dropout = dropout }
        return c
    }

    /// `--hidden` is each expert's layers.
    var mmoe: MMoE.Configuration {
        var c = MMoE.Configuration(experts: experts)
        if let embeddingWidth { c.embeddingWidth = embeddingWidth }
        if !hidden.isEmpty { c.expertLayers = hidden }
        if let dropout { c.dropout = dropout }
        return c
    }

    /// `--hidden` is each tower's layers.
    var esmm: ESMM.Configuration {
        var c = ESMM.Configuration()
        if let embeddingWidth { c.embeddingWidth = embeddingWidth }
        if !hidden.isEmpty { c.towerLayers = hidden }
        if let dropout { c.dropout = dropout }
        return c
    }
}

/// The click model architectures `starling train` and `starling bench click` know.
enum ClickModelName: String, ExpressibleByArgument, CaseIterable {
    case deepfm
    case wideDeep = "wide-deep"
    case sharedBottom = "shared-bottom"
    case mmoe
    case esmm

    /// Whether the model predicts click and purchase (the Taobao dataset) rather than click alone.
    var isMultiTask: Bool { self == .sharedBottom || self == .mmoe || self == .esmm }
}

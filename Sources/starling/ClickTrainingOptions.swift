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

/// The click model architectures `starling train` and `starling bench click` know.
enum ClickModelName: String, ExpressibleByArgument, CaseIterable {
    case deepfm
    case wideDeep = "wide-deep"
}

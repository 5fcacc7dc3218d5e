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

    var deepFM: DeepFM.Configuration { overriding(DeepFM.Configuration(), layers: \.hiddenLayers) }
    var wideAndDeep: WideAndDeep.Configuration { overriding(WideAndDeep.Configuration(), layers: \.hiddenLayers) }
    /// `--hidden` is the shared bottom's layers.
    var sharedBottom: SharedBottom.Configuration { overriding(SharedBottom.Configuration(), layers: \.bottomLayers) }
    /// `--hidden` is each expert's layers.
    var mmoe: MMoE.Configuration { overriding(MMoE.Configuration(experts: experts), layers: \.expertLayers) }
    /// `--hidden` is each tower's layers.
    var esmm: ESMM.Configuration { overriding(ESMM.Configuration(), layers: \.towerLayers) }

    /// The paper defaults with the width, layers and dropout given on the command line.
    private func overriding<C: ClickArchitecture>(_ defaults: C, layers: WritableKeyPath<C, [Int]>) -> C {
        var c = defaults
        if let embeddingWidth { c.embeddingWidth = embeddingWidth }
        if !hidden.isEmpty { c[keyPath: layers] = hidden }
        if let dropout { c.dropout = dropout }
        return c
    }
}

/// The hyper-parameters every click architecture has.
protocol ClickArchitecture {
    var embeddingWidth: Int { get set }
    var dropout: Float { get set }
}

extension DeepFM.Configuration: ClickArchitecture {}
extension WideAndDeep.Configuration: ClickArchitecture {}
extension SharedBottom.Configuration: ClickArchitecture {}
extension MMoE.Configuration: ClickArchitecture {}
extension ESMM.Configuration: ClickArchitecture {}

extension ClickTrainingConfiguration.OptimizerKind: ExpressibleByArgument {}

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

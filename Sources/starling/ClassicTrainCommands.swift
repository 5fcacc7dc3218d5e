import ArgumentParser
import StarlingModels
import StarlingTensor

extension Popularity.Configuration.Weighting: ExpressibleByArgument {}

struct TrainPopularity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "popularity", abstract: "Most-popular baseline: the same ranking for everyone, seen items excluded.")
    @OptionGroup var selection: DatasetSelection
    @OptionGroup var output: OutputOptions
    @Option(help: "users (distinct users per item) or values (sum of interaction values).")
    var weighting: Popularity.Configuration.Weighting = .users

    func run() throws {
        let c = Popularity.Configuration(weighting: weighting)
        try ClassicTraining.run(model: "Popularity", selection: selection, output: output,
                                hyperparameters: ["weighting": weighting.rawValue]) { data, events in
            Popularity.fit(data, configuration: c, events: events)
        }
    }
}

struct TrainItemKNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itemknn", abstract: "Item-based k-nearest neighbours: shrunk cosine similarity, top-N neighbours per item.")
    @OptionGroup var selection: DatasetSelection
    @OptionGroup var output: OutputOptions
    @Option(help: "Neighbours kept per item.") var neighbours = 100
    @Option(help: "Shrinkage added to the cosine denominator.") var shrink: Float = 10
    @Flag(name: .customLong("use-values"), help: "Weight by interaction values instead of 0/1.") var useValues = false

    func run() throws {
        let c = ItemKNN.Configuration(neighbours: neighbours, shrink: shrink, useValues: useValues)
        try ClassicTraining.run(model: "ItemKNN", selection: selection, output: output,
                                hyperparameters: ["neighbours": "\(neighbours)", "shrink": "\(shrink)", "use_values": "\(useValues)"]) { data, events in
            try ItemKNN.fit(data, configuration: c, events: events)
        }
    }
}

struct TrainEASE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ease", abstract: "EASE (Steck 2019): closed-form item-item model through a Cholesky inverse.")
    @OptionGroup var selection: DatasetSelection
    @OptionGroup var output: OutputOptions
    @Option(help: "L2 regularisation λ added to the Gram matrix's diagonal.") var lambda: Float = 500
    @Option(name: .customLong("maximum-items"), help: "Refuse larger catalogues (the item × item matrix is dense).")
    var maximumItems = 20_000
    @Flag(name: .customLong("use-values"), help: "Use interaction values instead of 0/1.") var useValues = false

    func run() throws {
        let c = EASE.Configuration(lambda: lambda, maximumItems: maximumItems, useValues: useValues)
        try ClassicTraining.run(model: "EASE", selection: selection, output: output,
                                hyperparameters: ["lambda": "\(lambda)", "use_values": "\(useValues)"]) { data, events in
            try EASE.fit(data, configuration: c, events: events)
        }
    }
}

struct TrainIALS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ials", abstract: "Implicit ALS (Hu, Koren & Volinsky): confidence 1 + α·value, conjugate-gradient sweeps on every core.")
    @OptionGroup var selection: DatasetSelection
    @OptionGroup var output: OutputOptions
    @Option(help: "Factor width.") var factors = 64
    @Option(help: "Full sweeps (users, then items).") var iterations = 15
    @Option(help: "L2 penalty λ on every factor vector.") var regularization: Float = 0.01
    @Option(help: "Confidence scale α (implicit's alpha a is a − 1 here for 0/1 data).") var alpha: Float = 40
    @Option(name: .customLong("cg-steps"), help: "Conjugate-gradient steps per row and half-sweep.") var cgSteps = 3
    @Option(help: "Seed of the initial factors.") var seed: UInt64 = 42
    @Option(help: "Worker threads (default: all cores).") var threads = Parallel.coreCount
    @Flag(name: .customLong("training-loss"), help: "Report the training loss every iteration (one extra pass).") var trainingLoss = false

    func run() throws {
        let c = IALS.Configuration(factors: factors, regularization: regularization, alpha: alpha, iterations: iterations,
                                   cgSteps: cgSteps, seed: seed, threads: threads, calculateTrainingLoss: trainingLoss)
        try ClassicTraining.run(model: "iALS", selection: selection, output: output,
                                hyperparameters: ["factors": "\(factors)", "iterations": "\(iterations)", "regularization": "\(regularization)",
                                                  "alpha": "\(alpha)", "cg_steps": "\(cgSteps)", "seed": "\(seed)", "threads": "\(threads)"]) { data, events in
            try IALS.fit(data, configuration: c, events: events)
        }
    }
}

struct TrainBPR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpr", abstract: "BPR-MF (Rendle et al.): pairwise ranking by Hogwild SGD on every core, with item biases.")
    @OptionGroup var selection: DatasetSelection
    @OptionGroup var output: OutputOptions
    @Option(help: "Factor width.") var factors = 64
    @Option(help: "Epochs (each samples one negative per training pair).") var iterations = 100
    @Option(name: .customLong("learning-rate"), help: "SGD step size.") var learningRate: Float = 0.01
    @Option(help: "L2 penalty applied at every step.") var regularization: Float = 0.01
    @Flag(name: .customLong("no-item-bias"), help: "Leave out the learned item bias.") var noItemBias = false
    @Option(help: "Seed of the factors and the sampling.") var seed: UInt64 = 42
    @Option(help: "Hogwild worker threads (default: all cores).") var threads = Parallel.coreCount
    @Flag(name: .customLong("training-loss"), help: "Report each epoch's mean BPR loss.") var trainingLoss = false

    func run() throws {
        let c = BPRMF.Configuration(factors: factors, learningRate: learningRate, regularization: regularization, iterations: iterations,
                                    itemBias: !noItemBias, seed: seed, threads: threads, calculateTrainingLoss: trainingLoss)
        try ClassicTraining.run(model: "BPR-MF", selection: selection, output: output,
                                hyperparameters: ["factors": "\(factors)", "iterations": "\(iterations)", "learning_rate": "\(learningRate)",
                                                  "regularization": "\(regularization)", "item_bias": "\(!noItemBias)", "seed": "\(seed)",
                                                  "threads": "\(threads)"]) { data, events in
            try BPRMF.fit(data, configuration: c, events: events)
        }
    }
}

struct TrainItem2Vec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "item2vec",
        abstract: "Item2vec (Barkan & Koenigstein): skip-gram with negative sampling over each user's items, or DeepWalk over random walks on the item graph.")
    @OptionGroup var selection: DatasetSelection
    @OptionGroup var output: OutputOptions
    @Option(help: "Vector width.") var factors = 64
    @Option(help: "Contexts on each side of an item in the shuffled user set (≥ the longest history: all pairs).") var window = 50
    @Option(help: "Negative samples per pair.") var negatives = 10
    @Option(name: .customLong("learning-rate"), help: "Initial SGD step size (falls linearly).") var learningRate: Float = 0.025
    @Option(help: "Epochs.") var iterations = 30
    @Option(help: "Down-sampling threshold of frequent items (word2vec's sample; 0: off).") var subsample = 1e-4
    @Option(name: .customLong("min-count"), help: "Items with fewer interactions get no vector.") var minCount = 5
    @Option(help: "Seed of the vectors, shuffles and draws.") var seed: UInt64 = 42
    @Option(help: "Hogwild worker threads (default: all cores).") var threads = Parallel.coreCount
    @Option(name: .customLong("walks-per-item"),
            help: "DeepWalk instead: this many random walks per item and epoch on the item co-occurrence graph (0: user sets, Item2vec).")
    var walksPerItem = 0
    @Option(name: .customLong("walk-length"), help: "Items per walk (with --walks-per-item; use a small --window such as 3).") var walkLength = 20

    func run() throws {
        let corpus: Item2Vec.Configuration.Corpus = walksPerItem > 0 ? .randomWalks(walksPerItem: walksPerItem, length: walkLength) : .userSets
        let c = Item2Vec.Configuration(corpus: corpus, factors: factors, window: window, negatives: negatives, learningRate: learningRate, iterations: iterations,
                                       subsample: subsample, minCount: minCount, seed: seed, threads: threads)
        try ClassicTraining.run(model: walksPerItem > 0 ? "DeepWalk" : "Item2vec", selection: selection, output: output,
                                hyperparameters: ["corpus": walksPerItem > 0 ? "random walks, \(walksPerItem) per item, length \(walkLength)" : "user sets",
                                                  "factors": "\(factors)", "window": "\(window)", "negatives": "\(negatives)",
                                                  "learning_rate": "\(learningRate)", "iterations": "\(iterations)", "subsample": "\(subsample)",
                                                  "min_count": "\(minCount)", "seed": "\(seed)", "threads": "\(threads)"]) { data, events in
            try Item2Vec.fit(data, configuration: c, events: events)
        }
    }
}

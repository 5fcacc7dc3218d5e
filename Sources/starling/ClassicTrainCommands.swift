import ArgumentParser
import StarlingModels

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

import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingFeatures
import StarlingTensor

/// The datasets click models train on.
enum ClickDatasetName: String, ExpressibleByArgument, CaseIterable {
    /// The Criteo sample: train.csv / dev.csv (validation) / test.csv.
    case criteo
    /// MovieLens-100K ratings as clicks (rating ≥ 4), random 70/10/20 split of the ratings.
    case ml100k = "ml-100k"
    /// Taobao UserBehavior (110k-row sample) as click + purchase impressions (2 sampled unclicked
    /// items per clicked pair), split by time 70/10/20.
    case taobao
}

/// Which click dataset a command uses, and how it is split.
struct ClickDatasetSelection: ParsableArguments {
    @Option(help: "Dataset: \(ClickDatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: ClickDatasetName = .criteo
    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).")
    var data: String?
    @Option(name: .customLong("split-seed"), help: "Seed of the random split (ml-100k).")
    var splitSeed: UInt64 = 42
    @Option(name: .customLong("min-count"), help: "Criteo: categorical values seen fewer times in training share the unknown row.")
    var minCount = 2

    /// The rows of one dataset, split, with the declared features.
    struct Prepared {
        let name: String
        let specs: [FeatureSpec]
        let train: LabeledFeatureTable
        let validation: LabeledFeatureTable
        let test: LabeledFeatureTable
        let splitDescription: String
    }

    func load() throws -> Prepared {
        let root = try DataRoot.resolve(explicit: data)
        switch dataset {
        case .criteo:
            let folder = try DataRoot.dataset("ctr-criteo-avazu-sample", in: root).appendingPathComponent("criteo")
            func read(_ file: String) throws -> LabeledFeatureTable {
                CTRDatasets.criteo(try Criteo.load(folder.appendingPathComponent(file)), name: "criteo/\(file)")
            }
            return Prepared(name: "criteo-sample", specs: CTRDatasets.criteoFeatures(minCount: minCount),
                            train: try read("train.csv"), validation: try read("dev.csv"), test: try read("test.csv"),
                            splitDescription: "ctr-criteo-avazu-sample: train.csv (7,200 rows) / dev.csv (409, model selection) / test.csv (391)")
        case .ml100k:
            let rows = CTRDatasets.movieLens(try MovieLens100K.load(root: root))
            var order = Array(0..<rows.rowCount)
            var rng = RandomGenerator(seed: splitSeed)
            rng.shuffle(&order)
            let trainEnd = rows.rowCount * 7 / 10, validationEnd = rows.rowCount * 8 / 10
            return Prepared(name: "ml-100k-ctr", specs: CTRDatasets.movieLensFeatures(),
                            train: rows.selecting(Array(order[..<trainEnd])),
                            validation: rows.selecting(Array(order[trainEnd..<validationEnd])),
                            test: rows.selecting(Array(order[validationEnd...])),
                            splitDescription: "ml-100k u.data, label rating ≥ 4, random 70/10/20 split of the ratings (seed \(splitSeed)); validation (10%) selects the epoch")
        case .taobao:
            let file = try DataRoot.dataset("taobao-userbehavior", in: root).appendingPathComponent("UserBehavior_sample_110k.csv")
            let rows = CTRDatasets.taobao(try TaobaoUserBehavior.load(file), seed: splitSeed)
            let trainEnd = rows.rowCount * 7 / 10, validationEnd = rows.rowCount * 8 / 10
            return Prepared(name: "taobao-userbehavior-110k", specs: CTRDatasets.taobaoFeatures(),
                            train: rows.selecting(Array(0..<trainEnd)), validation: rows.selecting(Array(trainEnd..<validationEnd)),
                            test: rows.selecting(Array(validationEnd..<rows.rowCount)),
                            splitDescription: "taobao-userbehavior UserBehavior_sample_110k.csv: every touched (user, item) pair a clicked impression (purchase = buy), 2 never-touched items per click drawn uniformly (seed \(splitSeed)) as unclicked ones; rows in time order of the pair's first event, first 70% train, next 10% validation (selects the epoch), last 20% test")
        }
    }
}

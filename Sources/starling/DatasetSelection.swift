import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingModels

/// The datasets the classic models train on, each with its split and evaluation protocol.
enum DatasetName: String, ExpressibleByArgument, CaseIterable {
    /// NCF's MovieLens-1M leave-one-out split; sampled protocol with its 99 given negatives.
    case ncfML1M = "ncf-ml-1m"
    /// The LightGCN/NGCF Gowalla split; full ranking.
    case gowalla = "lightgcn-gowalla"
    /// MovieLens-100K, every rating an implicit interaction; random 80/20 split per interaction;
    /// full ranking.
    case ml100k = "ml-100k"
    /// The SASRec paper's Amazon Games sequences; leave-last-out, 100 sampled negatives (see
    /// ``SASRecProtocol``); models other than SASRec train on every item but the test ones.
    case sasrecGames = "sasrec-games"
}

/// Which dataset, split and cut-offs a command uses.
struct DatasetSelection: ParsableArguments {
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: DatasetName = .gowalla
    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).")
    var data: String?
    @Option(name: .customLong("k"), parsing: .upToNextOption, help: "Cut-offs (default: 10 for sampled protocols, 10 and 20 for full ranking).")
    var ks: [Int] = []
    @Flag(help: "Full ranking only: also compute GAUC over all unseen items.")
    var auc = false
    @Option(name: .customLong("split-seed"), help: "Seed of random splits (ml-100k).")
    var splitSeed: UInt64 = 42
    @Flag(help: "ml-100k: evaluate on a validation slice (10% of all events, carved from the 80% training part; the model trains on the other 70%) instead of the test 20%, for tuning.")
    var validation = false
    @Option(help: "Threads for evaluation (default: all cores).")
    var evaluationThreads = Parallel.coreCount

    /// Loads the training data and prepares the evaluation.
    func prepare() throws -> PreparedDataset {
        let root = try DataRoot.resolve(explicit: data)
        switch dataset {
        case .ncfML1M where validation, .gowalla where validation, .sasrecGames where validation:
            throw ValidationError("--validation is for ml-100k (ncf-ml-1m's NeuMF training has its own --validation)")
        case .ncfML1M:
            let split = try NCFSplit.load(directory: try DataRoot.dataset("ncf-ml-1m", in: root))
            return PreparedDataset(name: split.name, train: split.train,
                                   evaluation: .sampled(SampledRankingEvaluator(split: split, ks: ks.isEmpty ? [10] : ks, threads: evaluationThreads)))
        case .gowalla:
            let split = try AdjacencySplit.gowalla(root: root)
            return fullRanking(name: split.name, train: split.train, test: split.test, split: "LightGCN/NGCF Gowalla train.txt / test.txt")
        case .sasrecGames:
            let data = try SASRecProtocol(root: root, threads: evaluationThreads)
            return PreparedDataset(name: "sasrec-games", train: data.testTimeInteractions, evaluation: .sampled(data.test))
        case .ml100k:
            let ratings = try MovieLens100K.load(root: root)
            if validation {
                // The same shuffle as the 80/20 split: its first 80% are cut into 70% training and 10% validation.
                let split = DatasetSplit.random(ratings, trainFraction: 0.7, validationFraction: 0.1, seed: splitSeed)
                return fullRanking(name: "ml-100k", train: split.train.interactionMatrix(), test: split.validation!.interactionMatrix(),
                                   split: "\(split.protocolDescription), evaluated on the validation part; every rating is an interaction")
            }
            let split = DatasetSplit.random(ratings, trainFraction: 0.8, seed: splitSeed)
            return fullRanking(name: "ml-100k", train: split.train.interactionMatrix(), test: split.test.interactionMatrix(),
                               split: "\(split.protocolDescription); every rating is an interaction")
        }
    }

    private func fullRanking(name: String, train: InteractionMatrix, test: InteractionMatrix, split: String) -> PreparedDataset {
        var evaluator = FullRankingEvaluator(train: train, test: test, ks: ks.isEmpty ? [10, 20] : ks, datasetName: name, splitDescription: split)
        evaluator.computeAUC = auc
        evaluator.threads = evaluationThreads
        return PreparedDataset(name: name, train: train, evaluation: .full(evaluator))
    }
}

import StarlingTensor

/// Training data plus the protocol to evaluate with.
struct PreparedDataset {
    enum Evaluation {
        case sampled(SampledRankingEvaluator)
        case full(FullRankingEvaluator)
    }

    let name: String
    let train: InteractionMatrix
    let evaluation: Evaluation

    func evaluate(_ model: some Recommender, details: [String: String] = [:]) -> EvaluationReport {
        switch evaluation {
        case let .sampled(e): return e.evaluate(model, details: details)
        case let .full(e): return e.evaluate(model, details: details)
        }
    }

    var describe: String {
        "\(name): \(train.userCount) users, \(train.itemCount) items, \(train.count) training interactions"
    }
}

import Foundation
import StarlingData
import StarlingEval
import StarlingFeatures
import StarlingModels
import StarlingTensor
import Testing

@Suite("Click models (DeepFM, Wide & Deep)")
struct ClickModelTests {
    /// MovieLens-100K ratings as clicks (rating ≥ 4), a seeded 80/20 split of the ratings, the
    /// pipeline fitted on the training part only.
    struct MovieLensClicks {
        let pipeline: FeaturePipeline
        let train: EncodedFeatures, trainLabels: [Float], trainTable: LabeledFeatureTable
        let test: EncodedFeatures, testLabels: [Float], testTable: LabeledFeatureTable

        init() throws {
            let rows = CTRDatasets.movieLens(try MovieLens100K.load(root: try DataRoot.resolve()))
            var order = Array(0..<rows.rowCount)
            var rng = RandomGenerator(seed: 7)
            rng.shuffle(&order)
            let cut = rows.rowCount * 8 / 10
            trainTable = rows.selecting(Array(order[..<cut]))
            testTable = rows.selecting(Array(order[cut...]))
            pipeline = try FeaturePipeline.fit(CTRDatasets.movieLensFeatures(), on: trainTable.table)
            train = try pipeline.encode(trainTable.table)
            test = try pipeline.encode(testTable.table)
            trainLabels = trainTable.labels[0]
            testLabels = testTable.labels[0]
        }

        /// The AUC of the item's smoothed training click rate: the baseline a model must beat.
        func itemRateAUC() throws -> Double {
            guard case let .categorical(trainItems) = try trainTable.table.column("item"),
                  case let .categorical(testItems) = try testTable.table.column("item") else { throw FeatureError.missingColumn("item") }
            var counts: [String: (clicks: Float, rows: Float)] = [:]
            for (item, label) in zip(trainItems, trainLabels) { counts[item!, default: (0, 0)].clicks += label; counts[item!, default: (0, 0)].rows += 1 }
            let prior = trainLabels.reduce(0, +) / Float(trainLabels.count)
            let scores = testItems.map { item -> Float in
                let c = counts[item!] ?? (0, 0)
                return (c.clicks + 10 * prior) / (c.rows + 10)
            }
            return ClassificationMetrics.auc(scores: scores, labels: testLabels.map { $0 > 0.5 })!
        }

        func auc(_ model: some ClickModel) -> Double {
            ClassificationMetrics.auc(scores: model.predict(test, threads: 2)[0], labels: testLabels.map { $0 > 0.5 })!
        }
    }

    static func training(epochs: Int, threads: Int = 2) -> ClickTrainingConfiguration {
        var c = ClickTrainingConfiguration()
        c.epochs = epochs
        c.patience = 0
        c.threads = threads
        return c
    }

    @Test func deepFMAndWideAndDeepBeatTheItemClickRateOnMovieLens() throws {
        let data = try MovieLensClicks()
        let baseline = try data.itemRateAUC()
        let deepFM = try DeepFM(pipeline: data.pipeline, configuration: .init(embeddingWidth: 8, hiddenLayers: [64, 64], dropout: 0))
        try ClickModelTrainer(configuration: Self.training(epochs: 2)).train(deepFM, features: data.train, labels: [data.trainLabels])
        let wide = try WideAndDeep(pipeline: data.pipeline, configuration: .init(embeddingWidth: 8, hiddenLayers: [64, 64]))
        try ClickModelTrainer(configuration: Self.training(epochs: 2)).train(wide, features: data.train, labels: [data.trainLabels])
        let (fmAUC, wideAUC) = (data.auc(deepFM), data.auc(wide))
        // Measured at seed 7: item click rate 0.710; DeepFM 0.774, Wide&Deep 0.779 after two epochs.
        #expect(baseline > 0.68 && baseline < 0.75)
        #expect(fmAUC > baseline + 0.03, "DeepFM AUC \(fmAUC) vs item click rate \(baseline)")
        #expect(wideAUC > baseline + 0.03, "Wide&Deep AUC \(wideAUC) vs item click rate \(baseline)")
    }

    @Test func deepFMLearnsCriteoClicks() throws {
        let folder = try DataRoot.dataset("ctr-criteo-avazu-sample", in: try DataRoot.resolve()).appendingPathComponent("criteo")
        let train = CTRDatasets.criteo(try Criteo.load(folder.appendingPathComponent("train.csv")), name: "train")
        let test = CTRDatasets.criteo(try Criteo.load(folder.appendingPathComponent("test.csv")), name: "test")
        let pipeline = try FeaturePipeline.fit(CTRDatasets.criteoFeatures(), on: train.table)
        let model = try DeepFM(pipeline: pipeline)
        try ClickModelTrainer(configuration: Self.training(epochs: 3)).train(model, features: try pipeline.encode(train.table), labels: train.labels)
        let evaluator = ClickEvaluator(features: try pipeline.encode(test.table), labels: test.labels, tasks: ["click"],
                                       datasetName: "criteo", splitDescription: "test.csv")
        let metrics = evaluator.metrics(model)
        // Measured: AUC 0.724, log loss 0.477 after three epochs; always predicting the training
        // click rate (0.215) has log loss 0.527 on this file (21.99% clicks) and AUC 0.5.
        #expect(metrics["AUC"]! > 0.68, "\(metrics)")
        #expect(metrics["LogLoss"]! < 0.50, "\(metrics)")
    }

    @Test func checkpointsCarryThePipelineAndServeRawRows() throws {
        let data = try MovieLensClicks()
        let rows = Array(0..<5_000)
        let model = try DeepFM(pipeline: data.pipeline, configuration: .init(embeddingWidth: 4, hiddenLayers: [16], dropout: 0.2))
        try ClickModelTrainer(configuration: Self.training(epochs: 1)).train(
            model, features: data.train.selecting(rows: rows), labels: [rows.map { data.trainLabels[$0] }])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("deepfm-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let (loaded, metadata) = try DeepFM.load(from: url)
        #expect(metadata["model"] == "deepfm")
        #expect(try ModelLoader.loadClickModel(from: url).modelName == "DeepFM")
        // Serving: raw request rows through the saved pipeline give the trained model's predictions.
        let request = data.testTable.selecting(Array(0..<50)).table
        let served = try loaded.predict(request)[0]
        let direct = model.predict(data.test.selecting(rows: 0..<50), threads: 1)[0]
        #expect(served == direct)
        // A wrong kind is refused with the path.
        #expect(throws: ModelError.self) { try WideAndDeep.load(from: url) }
    }

    @Test func oneThreadIsDeterministic() throws {
        let data = try MovieLensClicks()
        let rows = Array(0..<2_000)
        func run() throws -> [Float] {
            let m = try WideAndDeep(pipeline: data.pipeline, configuration: .init(embeddingWidth: 4, hiddenLayers: [8], dropout: 0.1))
            try ClickModelTrainer(configuration: Self.training(epochs: 1, threads: 1)).train(
                m, features: data.train.selecting(rows: rows), labels: [rows.map { data.trainLabels[$0] }])
            return m.predict(data.test.selecting(rows: 0..<100), threads: 1)[0]
        }
        #expect(try run() == run())
        #expect(throws: ModelError.self) { try DeepFM(pipeline: data.pipeline, configuration: .init(dropout: 1)) }
    }
}

import Foundation
import StarlingFeatures
import StarlingTensor

/// Entire Space Multi-task Model (Ma et al., SIGIR 2018): a click tower and a conversion tower
/// share the field embeddings; conversion is modelled over the entire impression space through
/// `pCTCVR = pCTR · pCVR`, so the CVR tower never trains on the clicked rows alone (no sample
/// selection bias) and gets the click task's data through the shared embeddings.
///
/// Loss: `BCE(pCTR, click) + BCE(pCTR·pCVR, purchase)` over all impressions. Tasks are
/// `[click, purchase]`; the purchase prediction is pCTCVR (``conversionProbabilities(_:)``
/// gives pCVR, the purchase probability given a click).
public final class ESMM: ConfiguredClickModel, @unchecked Sendable {
    /// The architecture's hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        public var embeddingWidth: Int
        /// Each tower's hidden layer widths (360-200-80 in the paper).
        public var towerLayers: [Int]
        public var dropout: Float

        public init(embeddingWidth: Int = 8, towerLayers: [Int] = [128, 64, 32], dropout: Float = 0) {
            self.embeddingWidth = embeddingWidth
            self.towerLayers = towerLayers
            self.dropout = dropout
        }

        func validate() throws(ModelError) {
            guard embeddingWidth > 0, towerLayers.allSatisfy({ $0 > 0 }) else { throw .invalidArgument("ESMM: widths must be positive") }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("ESMM: dropout must be in [0, 1)") }
        }
    }

    public let configuration: Configuration
    public let pipeline: FeaturePipeline
    public let embeddings: FeatureEmbeddings
    public let clickTower: MultilayerPerceptron
    public let conversionTower: MultilayerPerceptron

    public init(pipeline: FeaturePipeline, configuration: Configuration = Configuration(), seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        self.pipeline = pipeline
        var rng = RandomGenerator(seed: seed)
        let c = configuration
        let inputs = pipeline.fieldCount * c.embeddingWidth
        embeddings = FeatureEmbeddings(rows: pipeline.tableRows, width: c.embeddingWidth, name: "features", rng: &rng)
        clickTower = MultilayerPerceptron(inputs: inputs, hidden: c.towerLayers, outputs: 1, dropout: c.dropout, name: "ctr", rng: &rng)
        conversionTower = MultilayerPerceptron(inputs: inputs, hidden: c.towerLayers, outputs: 1, dropout: c.dropout, name: "cvr", rng: &rng)
    }

    public var modelName: String { "ESMM" }
    public var tasks: [String] { ["click", "purchase"] }
    public var parameters: [Parameter] { embeddings.parameters + clickTower.parameters + conversionTower.parameters }

    /// `[click logit, conversion-given-click logit]`.
    public func logits(_ features: EncodedFeatures, on tape: Tape) -> [Variable] {
        let input = embeddings.fields(features, on: tape).reshaped([features.rowCount, features.fieldCount * configuration.embeddingWidth])
        return [clickTower(input).reshaped([-1]), conversionTower(input).reshaped([-1])]
    }

    public func loss(_ features: EncodedFeatures, labels: [[Float]], on tape: Tape) -> Variable {
        precondition(labels.count == 2, "ESMM.loss: labels for click and purchase expected")
        let l = logits(features, on: tape)
        let ctr = Loss.binaryCrossEntropy(logits: l[0], targets: Tensor(labels[0]))
        // log pCTCVR = log σ(a) + log σ(b) = −softplus(−a) − softplus(−b);
        // log(1 − pCTCVR) = log(1 − σ(a)σ(b)), kept away from log 0.
        let logP: Variable = -((-l[0]).softplus() + (-l[1]).softplus())
        let p: Variable = l[0].sigmoid() * l[1].sigmoid()
        let logNotP: Variable = (p * -1 + (1 + 1e-7)).log()
        let positive: Variable = logP * Tensor(labels[1])
        let negative: Variable = logNotP * Tensor(labels[1].map { 1 - $0 })
        let ctcvr: Variable = -(positive + negative).mean()
        return ctr + ctcvr
    }

    /// `[pCTR, pCTCVR]`.
    public func probabilities(fromLogits logits: [Tensor]) -> [[Float]] {
        let a = logits[0].scalars, b = logits[1].scalars
        let ctr = a.map { 1 / (1 + Foundation.exp(-$0)) }
        return [ctr, zip(ctr, b).map { $0 * (1 / (1 + Foundation.exp(-$1))) }]
    }

    /// pCVR: the probability of a purchase given a click, per row.
    public func conversionProbabilities(_ features: EncodedFeatures) -> [Float] {
        let tape = Tape(training: false, recording: false)
        return logits(features, on: tape)[1].value.scalars.map { 1 / (1 + Foundation.exp(-$0)) }
    }

    /// The `model` metadata value of ESMM checkpoints.
    public static let checkpointKind = "esmm"
}

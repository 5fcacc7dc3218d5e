import Foundation
import StarlingFeatures
import StarlingTensor

/// Multi-gate Mixture-of-Experts (Ma et al., KDD 2018): several expert networks read the field
/// embeddings; each task mixes the experts' outputs with its own softmax gate,
/// `f_t(x) = Σ_e softmax(W_t x)_e · expert_e(x)`, and feeds the mixture to its tower.
public final class MMoE: ConfiguredClickModel, @unchecked Sendable {
    /// The architecture's hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        public var tasks: [String]
        public var embeddingWidth: Int
        public var experts: Int
        /// Each expert's layer widths (its last layer is its output, after a ReLU).
        public var expertLayers: [Int]
        /// Each tower's hidden layer widths.
        public var towerLayers: [Int]
        public var dropout: Float

        public init(tasks: [String] = ["click", "purchase"], embeddingWidth: Int = 8, experts: Int = 4, expertLayers: [Int] = [64],
                    towerLayers: [Int] = [32], dropout: Float = 0) {
            self.tasks = tasks
            self.embeddingWidth = embeddingWidth
            self.experts = experts
            self.expertLayers = expertLayers
            self.towerLayers = towerLayers
            self.dropout = dropout
        }

        func validate() throws(ModelError) {
            guard !tasks.isEmpty, embeddingWidth > 0, experts >= 1, !expertLayers.isEmpty,
                  (expertLayers + towerLayers).allSatisfy({ $0 > 0 }) else {
                throw .invalidArgument("MMoE: tasks, at least one expert with a layer and positive widths are required")
            }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("MMoE: dropout must be in [0, 1)") }
        }
    }

    public let configuration: Configuration
    public let pipeline: FeaturePipeline
    public let embeddings: FeatureEmbeddings
    public let experts: [MultilayerPerceptron]
    public let gates: [Linear]
    public let towers: [MultilayerPerceptron]

    public init(pipeline: FeaturePipeline, configuration: Configuration = Configuration(), seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        self.pipeline = pipeline
        var rng = RandomGenerator(seed: seed)
        let c = configuration
        let inputs = pipeline.fieldCount * c.embeddingWidth, width = c.expertLayers.last!
        embeddings = FeatureEmbeddings(rows: pipeline.tableRows, width: c.embeddingWidth, name: "features", rng: &rng)
        experts = (0..<c.experts).map { e in
            MultilayerPerceptron(inputs: inputs, hidden: Array(c.expertLayers.dropLast()), outputs: width, dropout: c.dropout,
                                 name: "expert.\(e)", rng: &rng)
        }
        gates = c.tasks.map { Linear(inputs: inputs, outputs: c.experts, name: "gate.\($0)", rng: &rng) }
        towers = c.tasks.map { task in
            MultilayerPerceptron(inputs: width, hidden: c.towerLayers, outputs: 1, dropout: c.dropout, name: "tower.\(task)", rng: &rng)
        }
    }

    public var modelName: String { "MMoE" }
    public var tasks: [String] { configuration.tasks }
    public var parameters: [Parameter] {
        embeddings.parameters + experts.flatMap(\.parameters) + gates.flatMap(\.parameters) + towers.flatMap(\.parameters)
    }

    public func logits(_ features: EncodedFeatures, on tape: Tape) -> [Variable] {
        let rows = features.rowCount, width = configuration.expertLayers.last!
        let input = embeddings.fields(features, on: tape).reshaped([rows, features.fieldCount * configuration.embeddingWidth])
        // [rows, experts, width]
        let outputs = Variable.concatenate(experts.map { $0(input).relu().reshaped([rows, 1, width]) }, alongAxis: 1)
        return zip(gates, towers).map { gate, tower in
            let weights = gate(input).softmax(alongAxis: 1).reshaped([rows, configuration.experts, 1])
            let mixture = (outputs * weights).sum(alongAxis: 1)
            return tower(mixture).reshaped([-1])
        }
    }

    /// The `model` metadata value of MMoE checkpoints.
    public static let checkpointKind = "mmoe"
}

import Foundation
import StarlingFeatures
import StarlingTensor

/// The shared-bottom multi-task network (Caruana 1997): field embeddings feed one shared MLP
/// whose output feeds a small tower per task, each ending in that task's logit.
public final class SharedBottom: ConfiguredClickModel, @unchecked Sendable {
    /// The architecture's hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        public var tasks: [String]
        public var embeddingWidth: Int
        /// The shared bottom's layer widths (its last layer is the towers' input, after a ReLU).
        public var bottomLayers: [Int]
        /// Each tower's hidden layer widths.
        public var towerLayers: [Int]
        public var dropout: Float

        public init(tasks: [String] = ["click", "purchase"], embeddingWidth: Int = 8, bottomLayers: [Int] = [128, 64],
                    towerLayers: [Int] = [32], dropout: Float = 0) {
            self.tasks = tasks
            self.embeddingWidth = embeddingWidth
            self.bottomLayers = bottomLayers
            self.towerLayers = towerLayers
            self.dropout = dropout
        }

        func validate() throws(ModelError) {
            guard !tasks.isEmpty, embeddingWidth > 0, !bottomLayers.isEmpty, (bottomLayers + towerLayers).allSatisfy({ $0 > 0 }) else {
                throw .invalidArgument("Shared-Bottom: tasks, a bottom layer and positive widths are required")
            }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("Shared-Bottom: dropout must be in [0, 1)") }
        }
    }

    public let configuration: Configuration
    public let pipeline: FeaturePipeline
    public let embeddings: FeatureEmbeddings
    public let bottom: MultilayerPerceptron
    public let towers: [MultilayerPerceptron]

    public init(pipeline: FeaturePipeline, configuration: Configuration = Configuration(), seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        self.pipeline = pipeline
        var rng = RandomGenerator(seed: seed)
        let c = configuration
        embeddings = FeatureEmbeddings(rows: pipeline.tableRows, width: c.embeddingWidth, name: "features", rng: &rng)
        bottom = MultilayerPerceptron(inputs: pipeline.fieldCount * c.embeddingWidth, hidden: Array(c.bottomLayers.dropLast()),
                                      outputs: c.bottomLayers.last!, dropout: c.dropout, name: "bottom", rng: &rng)
        towers = c.tasks.map { task in
            MultilayerPerceptron(inputs: c.bottomLayers.last!, hidden: c.towerLayers, outputs: 1, dropout: c.dropout,
                                 name: "tower.\(task)", rng: &rng)
        }
    }

    public var modelName: String { "Shared-Bottom" }
    public var tasks: [String] { configuration.tasks }
    public var parameters: [Parameter] { embeddings.parameters + bottom.parameters + towers.flatMap(\.parameters) }

    public func logits(_ features: EncodedFeatures, on tape: Tape) -> [Variable] {
        let input = embeddings.fields(features, on: tape).reshaped([features.rowCount, features.fieldCount * configuration.embeddingWidth])
        let shared = bottom(input).relu()
        return towers.map { $0(shared).reshaped([-1]) }
    }

    /// The `model` metadata value of Shared-Bottom checkpoints.
    public static let checkpointKind = "shared-bottom"
}

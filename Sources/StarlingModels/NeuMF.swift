import Foundation
import StarlingTensor

/// Neural Collaborative Filtering (He et al., WWW 2017): Generalised Matrix Factorisation (GMF)
/// and a multi-layer perceptron (MLP) over separate user and item embeddings, fused by a final
/// linear layer into one logit per (user, item) pair.
///
/// - GMF: `φ_GMF = p_u ⊙ q_i` with `factors`-wide embeddings.
/// - MLP: `[p'_u, q'_i]` through `layers` ReLU layers whose width halves each time down to
///   `factors` (embeddings `factors·2^(layers-1)` wide, so the input is twice that).
/// - NeuMF: `ŷ = σ(hᵀ[φ_GMF, φ_MLP] + b)`.
///
/// The GMF-only and MLP-only variants are the paper's separately pre-trained models; a NeuMF can be
/// initialised from them with ``init(pretrainedGMF:mlp:alpha:)``.
public final class NeuMF: Module, PairScoring, Checkpointable, @unchecked Sendable {
    /// Which towers the model has.
    public enum Variant: String, Codable, Sendable, CaseIterable {
        case neuMF = "NeuMF", gmf = "GMF", mlp = "MLP"
    }

    /// The hyper-parameters that define the architecture.
    public struct Configuration: Codable, Sendable, Equatable {
        public var variant: Variant
        public var userCount: Int
        public var itemCount: Int
        /// Predictive factors: the GMF embedding width and the last MLP layer's width (8/16/32/64 in the paper).
        public var factors: Int
        /// The number of MLP layers.
        public var layers: Int
        /// Dropout after each MLP layer (0 in the paper).
        public var dropout: Float

        public init(variant: Variant = .neuMF, userCount: Int, itemCount: Int, factors: Int = 32, layers: Int = 3, dropout: Float = 0) {
            self.variant = variant
            self.userCount = userCount
            self.itemCount = itemCount
            self.factors = factors
            self.layers = layers
            self.dropout = dropout
        }

        /// Width of each MLP embedding.
        public var mlpEmbeddingWidth: Int { factors << (layers - 1) }
        /// Widths from the MLP input to its output, e.g. `[256, 128, 64, 32]` for 32 factors and 3 layers.
        public var mlpWidths: [Int] { (0...layers).map { factors << (layers - $0) } }

        func validate() throws(ModelError) {
            guard userCount > 0, itemCount > 0 else { throw .invalidArgument("NeuMF: userCount and itemCount must be positive") }
            guard factors > 0, layers >= 1, layers <= 8 else { throw .invalidArgument("NeuMF: factors must be positive and layers in 1...8") }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("NeuMF: dropout must be in [0, 1)") }
        }
    }

    public let configuration: Configuration
    public let gmfUser: Embedding?, gmfItem: Embedding?
    public let mlpUser: Embedding?, mlpItem: Embedding?
    public let mlpLayers: [Linear]
    public let prediction: Linear

    /// A freshly initialised model: embeddings `N(0, 0.01²)`, MLP layers Glorot-uniform, the
    /// prediction layer LeCun-uniform, biases zero (the original implementation's choices).
    public init(_ configuration: Configuration, seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        var rng = RandomGenerator(seed: seed)
        let c = configuration
        let hasGMF = c.variant != .mlp, hasMLP = c.variant != .gmf
        gmfUser = hasGMF ? Embedding(count: c.userCount, dimension: c.factors, name: "gmf_user", rng: &rng) : nil
        gmfItem = hasGMF ? Embedding(count: c.itemCount, dimension: c.factors, name: "gmf_item", rng: &rng) : nil
        mlpUser = hasMLP ? Embedding(count: c.userCount, dimension: c.mlpEmbeddingWidth, name: "mlp_user", rng: &rng) : nil
        mlpItem = hasMLP ? Embedding(count: c.itemCount, dimension: c.mlpEmbeddingWidth, name: "mlp_item", rng: &rng) : nil
        let widths = c.mlpWidths
        mlpLayers = hasMLP ? (0..<c.layers).map { k in
            Linear(inputs: widths[k], outputs: widths[k + 1], name: "mlp.\(k)", rng: &rng)
        } : []
        let predictionInputs = (hasGMF ? c.factors : 0) + (hasMLP ? c.factors : 0)
        prediction = Linear(inputs: predictionInputs, outputs: 1, name: "prediction", initialization: .lecunUniform, rng: &rng)
    }

    /// NeuMF initialised from pre-trained GMF and MLP models, as in the paper: embeddings and MLP
    /// layers copied, prediction weights `[α·h_GMF, (1-α)·h_MLP]` and bias `α·b_GMF + (1-α)·b_MLP`.
    public convenience init(pretrainedGMF gmf: NeuMF, mlp: NeuMF, alpha: Float = 0.5) throws(ModelError) {
        guard gmf.configuration.variant == .gmf, mlp.configuration.variant == .mlp,
              gmf.configuration.factors == mlp.configuration.factors,
              gmf.userCount == mlp.userCount, gmf.itemCount == mlp.itemCount else {
            throw .invalidArgument("NeuMF pre-training: need a GMF and an MLP model with the same factors, users and items")
        }
        var c = mlp.configuration
        c.variant = .neuMF
        try self.init(c)
        gmfUser!.table.value = gmf.gmfUser!.table.value
        gmfItem!.table.value = gmf.gmfItem!.table.value
        mlpUser!.table.value = mlp.mlpUser!.table.value
        mlpItem!.table.value = mlp.mlpItem!.table.value
        for (mine, theirs) in zip(mlpLayers, mlp.mlpLayers) {
            mine.weight.value = theirs.weight.value
            mine.bias!.value = theirs.bias!.value
        }
        prediction.weight.value = Tensor.concatenate(
            [gmf.prediction.weight.value * alpha, mlp.prediction.weight.value * (1 - alpha)], alongAxis: 1)
        prediction.bias!.value = gmf.prediction.bias!.value * alpha + mlp.prediction.bias!.value * (1 - alpha)
    }

    public var modelName: String { configuration.variant.rawValue }
    public var userCount: Int { configuration.userCount }
    public var itemCount: Int { configuration.itemCount }

    public var parameters: [Parameter] {
        [gmfUser, gmfItem, mlpUser, mlpItem].compactMap { $0?.table } + mlpLayers.flatMap(\.parameters) + prediction.parameters
    }

    /// The logit `hᵀ[φ_GMF, φ_MLP] + b` of each `(users[k], items[k])` pair, shape `[n]`.
    public func logits(users: [Int32], items: [Int32], on tape: Tape) -> Variable {
        precondition(users.count == items.count, "NeuMF.logits: \(users.count) users but \(items.count) items")
        var towers: [Variable] = []
        if let gmfUser, let gmfItem {
            towers.append(gmfUser(users, on: tape) * gmfItem(items, on: tape))
        }
        if let mlpUser, let mlpItem {
            var h = Variable.concatenate([mlpUser(users, on: tape), mlpItem(items, on: tape)], alongAxis: 1)
            for layer in mlpLayers {
                h = layer(h).relu()
                if configuration.dropout > 0 { h = h.dropout(rate: configuration.dropout) }
            }
            towers.append(h)
        }
        let fused = towers.count == 1 ? towers[0] : Variable.concatenate(towers, alongAxis: 1)
        return prediction(fused).reshaped([-1])
    }

    /// Logits for many pairs (inference; no gradients). Safe from several threads at once.
    public func scores(users: [Int32], items: [Int32]) -> [Float] {
        let tape = Tape(training: false, recording: false)
        return logits(users: users, items: items, on: tape).value.scalars
    }

    // MARK: checkpoints

    /// The `model` metadata value of NeuMF checkpoints.
    public static let checkpointKind = "neumf"

    public func checkpoint() throws -> SafeTensorsFile {
        SafeTensorsFile(tensors: stateDictionary(), metadata: try ModelCheckpoint.metadata(kind: NeuMF.checkpointKind, configuration: configuration))
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``, with the file's metadata.
    public static func load(from url: URL) throws -> (model: NeuMF, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        let model = try NeuMF(configuration)
        try model.loadStateDictionary(file.tensors)
        return (model, file.metadata)
    }
}

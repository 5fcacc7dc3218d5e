import Foundation
import StarlingTensor
import Synchronization

/// SASRec, self-attentive sequential recommendation (Kang & McAuley, ICDM 2018): a causal
/// Transformer reads a user's last items and predicts the next one.
///
/// Item `i` at position `p` enters as `E[i]·√d + P[p]` (dropout); each block computes
/// `Q = LN(x)`, `x = Q + Attention(Q·Wq, x·Wk, x·Wv)·Wo` (causal, dropout on the weights),
/// `x = LN(x)`, `x = x + FFN(x)` with `FFN = Linear → ReLU → dropout → Linear → dropout`, and a final
/// layer norm gives the hidden state `h`. The score of item `j` after a sequence is `h_last · E[j]`
/// (the input embeddings are shared with the output). This is the block order of the authors'
/// TensorFlow code and of `pmixer/SASRec.pytorch`, with the latter's attention output projection.
///
/// Sequences are packed back to back (``PackedSequences``) rather than left-padded to
/// `maxLength`: positions are numbered as in the padded layout (the last item of a sequence always
/// has position `maxLength - 1`), and padding, which the reference code masks, is never computed.
///
/// As a ``Recommender`` the model keeps each user's recent items (the last `maxLength`) and scores
/// from them; ``foldIn(user:history:values:)`` replaces a user's sequence, so recommendations follow
/// what the user did a moment ago without retraining. Histories passed to it must be in time order.
public final class SASRec: Recommender, @unchecked Sendable {
    /// The architecture's hyper-parameters (the paper's Amazon Games settings by default).
    public struct Configuration: Codable, Sendable, Equatable {
        public var itemCount: Int
        /// The most recent items a sequence keeps.
        public var maxLength: Int
        /// The embedding and hidden width `d`.
        public var hiddenUnits: Int
        /// Self-attention blocks.
        public var blocks: Int
        public var heads: Int
        public var dropout: Float

        public init(itemCount: Int, maxLength: Int = 50, hiddenUnits: Int = 50, blocks: Int = 2, heads: Int = 1, dropout: Float = 0.5) {
            self.itemCount = itemCount
            self.maxLength = maxLength
            self.hiddenUnits = hiddenUnits
            self.blocks = blocks
            self.heads = heads
            self.dropout = dropout
        }

        func validate() throws(ModelError) {
            guard itemCount > 0, maxLength > 0, hiddenUnits > 0, blocks > 0, heads > 0 else {
                throw .invalidArgument("SASRec: itemCount, maxLength, hiddenUnits, blocks and heads must be positive")
            }
            guard hiddenUnits % heads == 0 else { throw .invalidArgument("SASRec: hiddenUnits \(hiddenUnits) must be divisible by heads \(heads)") }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("SASRec: dropout must be in [0, 1), got \(dropout)") }
        }
    }

    /// One self-attention block.
    public final class Block: Module {
        public let attentionNorm: LayerNorm, feedForwardNorm: LayerNorm
        public let query: Linear, key: Linear, value: Linear, output: Linear
        public let feedForward1: Linear, feedForward2: Linear

        init(width: Int, name: String, rng: inout RandomGenerator) {
            attentionNorm = LayerNorm(dimension: width, name: "\(name).attention_norm", epsilon: 1e-8)
            feedForwardNorm = LayerNorm(dimension: width, name: "\(name).feed_forward_norm", epsilon: 1e-8)
            func linear(_ part: String) -> Linear {
                Linear(inputs: width, outputs: width, name: "\(name).\(part)", initialization: .xavierNormal, rng: &rng)
            }
            query = linear("query"); key = linear("key"); value = linear("value"); output = linear("output")
            feedForward1 = linear("feed_forward.0"); feedForward2 = linear("feed_forward.1")
        }

        public var parameters: [Parameter] {
            let modules: [any Module] = [attentionNorm, query, key, value, output, feedForwardNorm, feedForward1, feedForward2]
            return modules.flatMap(\.parameters)
        }

        func callAsFunction(_ x: Variable, sequences: PackedSequences, heads: Int, dropout: Float) -> Variable {
            let q = attentionNorm(x)
            let attended = query(q).packedCausalAttention(key: key(x), value: value(x), sequences: sequences, heads: heads, dropout: dropout)
            let y = feedForwardNorm(q + output(attended))
            return y + feedForward2(feedForward1(y).relu().dropout(rate: dropout)).dropout(rate: dropout)
        }
    }

    public let configuration: Configuration
    /// `[itemCount, d]`: the items' input and output embeddings.
    public let itemEmbedding: Parameter
    /// `[maxLength, d]`: position `maxLength - 1` is a sequence's last item.
    public let positionEmbedding: Parameter
    public let blocks: [Block]
    public let finalNorm: LayerNorm
    /// Each user's recent items, oldest first, at most `maxLength`.
    private let sequences: Mutex<[[Int32]]>

    /// A new model with the reference code's initialisation (Xavier-normal matrices and
    /// embeddings, layer norms at identity, zero biases); `sequences` are the users' items in time order.
    public init(_ configuration: Configuration, sequences: [[Int32]] = [], seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        var rng = RandomGenerator(seed: seed)
        let d = configuration.hiddenUnits
        itemEmbedding = Parameter(name: "item_embedding", value: .xavierNormal(shape: [configuration.itemCount, d], using: &rng), isEmbeddingTable: true)
        positionEmbedding = Parameter(name: "position_embedding", value: .xavierNormal(shape: [configuration.maxLength, d], using: &rng),
                                      isEmbeddingTable: true)
        blocks = (0..<configuration.blocks).map { Block(width: d, name: "block.\($0)", rng: &rng) }
        finalNorm = LayerNorm(dimension: d, name: "final_norm", epsilon: 1e-8)
        self.sequences = Mutex([])
        try setSequences(sequences)
    }

    public var modelName: String { "SASRec" }
    public var itemCount: Int { configuration.itemCount }
    public var userCount: Int { sequences.withLock { $0.count } }
    public var parameters: [Parameter] { [itemEmbedding, positionEmbedding] + blocks.flatMap(\.parameters) + finalNorm.parameters }

    /// Replaces every user's sequence (user `u` is `sequences[u]`, oldest first); only the last
    /// `maxLength` items are kept.
    public func setSequences(_ sequences: [[Int32]]) throws(ModelError) {
        for (u, s) in sequences.enumerated() {
            if let bad = s.first(where: { $0 < 0 || Int($0) >= itemCount }) {
                throw .invalidArgument("SASRec: user \(u)'s sequence holds item \(bad), outside 0..<\(itemCount)")
            }
        }
        let kept = sequences.map { Array($0.suffix(configuration.maxLength)) }
        self.sequences.withLock { $0 = kept }
    }

    /// User `user`'s stored sequence.
    public func sequence(of user: Int) -> [Int32] { sequences.withLock { $0[user] } }

    // MARK: forward

    /// The hidden states of every position of `inputs` (each cut to its last `maxLength` items),
    /// packed: `[tokens, d]`, and where each sequence lies.
    public func hiddenStates(_ inputs: [ArraySlice<Int32>], on tape: Tape) -> (Variable, PackedSequences) {
        let c = configuration
        let kept = inputs.map { $0.suffix(c.maxLength) }
        let packed = PackedSequences(lengths: kept.map(\.count))
        var items: [Int32] = [], positions: [Int32] = []
        items.reserveCapacity(packed.tokenCount); positions.reserveCapacity(packed.tokenCount)
        for s in kept {
            items.append(contentsOf: s)
            positions.append(contentsOf: (Int32(c.maxLength - s.count)..<Int32(c.maxLength)))
        }
        var x = tape.embedding(itemEmbedding, indices: items) * Float(c.hiddenUnits).squareRoot()
            + tape.embedding(positionEmbedding, indices: positions)
        x = x.dropout(rate: c.dropout)
        for block in blocks { x = block(x, sequences: packed, heads: c.heads, dropout: c.dropout) }
        return (finalNorm(x), packed)
    }

    /// The training loss of one batch: at every position the next item (`positives`, packed like
    /// the inputs cut to `maxLength`) against one sampled item (`negatives`), binary cross-entropy
    /// on `h · E[item]`: mean over positives plus mean over negatives, as in the reference code.
    public func loss(inputs: [ArraySlice<Int32>], positives: [Int32], negatives: [Int32], on tape: Tape) -> Variable {
        let (h, packed) = hiddenStates(inputs, on: tape)
        precondition(positives.count == packed.tokenCount && negatives.count == packed.tokenCount,
                     "SASRec.loss: \(positives.count) positives and \(negatives.count) negatives for \(packed.tokenCount) positions")
        let n = packed.tokenCount
        let positive = (h * tape.embedding(itemEmbedding, indices: positives)).sum(alongAxis: 1)
        let negative = (h * tape.embedding(itemEmbedding, indices: negatives)).sum(alongAxis: 1)
        return Loss.binaryCrossEntropy(logits: positive, targets: Tensor(shape: [n], repeating: 1))
            + Loss.binaryCrossEntropy(logits: negative, targets: Tensor(shape: [n]))
    }

    /// The hidden state after each sequence's last item, `[sequences.count, d]` (zeros for an
    /// empty sequence), computed in evaluation mode.
    public func finalStates(_ inputs: [ArraySlice<Int32>]) -> Tensor {
        let d = configuration.hiddenUnits
        var out = Tensor(shape: [inputs.count, d])
        let nonEmpty = inputs.indices.filter { !inputs[$0].isEmpty }
        guard !nonEmpty.isEmpty else { return out }
        let tape = Tape(training: false, recording: false)
        let (h, packed) = hiddenStates(nonEmpty.map { inputs[$0] }, on: tape)
        let ph = h.value.readPointer, po = out.writePointer()
        for (k, row) in packed.lastRows.enumerated() { (po + nonEmpty[k] * d).update(from: ph + Int(row) * d, count: d) }
        return out
    }

    // MARK: Recommender

    public func scoreAllItems(users: [Int32]) -> Tensor {
        scoreAllItems(states: finalStates(ofUsers: users))
    }

    /// The hidden state after each user's stored sequence.
    private func finalStates(ofUsers users: [Int32]) -> Tensor {
        finalStates(sequences.withLock { all in users.map { all[Int($0)][...] } })
    }

    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        let valid = history.filter { $0 >= 0 && Int($0) < itemCount }
        return scoreAllItems(states: finalStates([valid[...]])).scalars
    }

    /// `states · Eᵀ`: `[states, itemCount]`.
    private func scoreAllItems(states: Tensor) -> Tensor {
        states.matmul(itemEmbedding.value, transposeOther: true)
    }

    /// Pair scores: one forward pass per run of consecutive pairs of the same user.
    public func scores(users: [Int32], items: [Int32]) -> [Float] {
        precondition(users.count == items.count, "scores(users:items:): \(users.count) users, \(items.count) items")
        var runs: [Range<Int>] = []
        var start = 0
        while start < users.count {
            var end = start + 1
            while end < users.count && users[end] == users[start] { end += 1 }
            runs.append(start..<end)
            start = end
        }
        let states = finalStates(ofUsers: runs.map { users[$0.lowerBound] })
        let d = configuration.hiddenUnits
        let ps = states.readPointer, pe = itemEmbedding.value.readPointer
        var out = [Float](repeating: 0, count: users.count)
        for (r, run) in runs.enumerated() {
            for k in run { out[k] = VectorKernels.dot(ps + r * d, pe + Int(items[k]) * d, d) }
        }
        return out
    }

    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try validateFoldIn(user: user, userCount: userCount, history: history, values: values, itemCount: itemCount)
        let kept = Array(history.suffix(configuration.maxLength))
        sequences.withLock { all in
            if user == all.count { all.append(kept) } else { all[user] = kept }
        }
    }

    /// The items whose embeddings have the highest cosine similarity with `item`'s (an unknown
    /// item has none).
    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        let table = itemEmbedding.value, d = configuration.hiddenUnits
        return withExtendedLifetime(table) {
            FactorScoring.similarItems(to: item, count: count, rows: table.readPointer, rowCount: itemCount, width: d,
                                       inverseNorms: FactorScoring.inverseNorms(table.readPointer, rowCount: itemCount, width: d))
        }
    }

    // MARK: checkpoints

    /// The `model` metadata value of SASRec checkpoints.
    public static let checkpointKind = "sasrec"

    /// The parameters plus the users' sequences (`sequence_offsets`, `sequence_items`).
    public func checkpoint() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(tensors: stateDictionary(),
                                   metadata: try ModelCheckpoint.metadata(kind: SASRec.checkpointKind, configuration: configuration))
        let all = sequences.withLock { $0 }
        var offsets: [Int32] = [0]
        for s in all { offsets.append(offsets.last! + Int32(s.count)) }
        file.integerTensors["sequence_offsets"] = .init(shape: [offsets.count], values: offsets)
        file.integerTensors["sequence_items"] = .init(shape: [Int(offsets.last!)], values: all.flatMap { $0 })
        return file
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``; also returns the file's metadata.
    public static func load(from url: URL) throws -> (model: SASRec, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        do { try configuration.validate() } catch { throw ModelError.badConfiguration(path: url.path, reason: error.description) }
        let csr = try ItemBased.decodeCSR(file, offsets: "sequence_offsets", indices: "sequence_items",
                                          indexBound: configuration.itemCount, path: url.path)
        let sequences = (0..<(csr.offsets.count - 1)).map { Array(csr.indices[csr.offsets[$0]..<csr.offsets[$0 + 1]]) }
        let model = try SASRec(configuration, sequences: sequences)
        try model.loadStateDictionary(file.tensors)
        return (model, file.metadata)
    }
}

import Foundation
import StarlingTensor

/// A model that scores (user, item) pairs: higher means more relevant. Evaluation protocols and
/// the serving pipeline rank candidates with it.
public protocol PairScoring: AnyObject, Sendable {
    /// The model's name in reports, e.g. `NeuMF`.
    var modelName: String { get }
    /// The number of users and items the model knows.
    var userCount: Int { get }
    var itemCount: Int { get }
    /// One score per `(users[k], items[k])` pair. Safe to call from several threads at once.
    func scores(users: [Int32], items: [Int32]) -> [Float]
}

/// A model that can be written to and read from a safetensors checkpoint.
public protocol Checkpointable: Module {
    /// The checkpoint: parameter tensors plus metadata that identifies the model and its configuration.
    func checkpoint() throws -> SafeTensorsFile
}

/// A problem with a model or its checkpoint.
public enum ModelError: Error, CustomStringConvertible {
    case wrongModel(path: String, expected: String, found: String)
    case badConfiguration(path: String, reason: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .wrongModel(path, expected, found): return "\(path): checkpoint holds a \(found) model, expected \(expected)"
        case let .badConfiguration(path, reason): return "\(path): model configuration is invalid: \(reason)"
        case let .invalidArgument(reason): return reason
        }
    }
}

extension Checkpointable {
    /// Writes the checkpoint atomically to `url`.
    public func save(to url: URL) throws {
        try checkpoint().write(to: url)
    }
}

/// What a model reports while it fits.
public enum FitEvent: Sendable {
    /// An iteration (ALS sweep, SGD epoch) finished; `loss` where the model computes one.
    case iteration(number: Int, of: Int, loss: Double?, seconds: Double)
    /// A step without iterations finished (counting co-occurrences, solving EASE), or a note.
    case message(String)
}

/// The common interface of recommendation models: score, recommend, find similar items, fold in a
/// new or changed user without retraining, and save.
///
/// Item and user ids are the dense indices of the training data. A model is safe to read from
/// several threads at once; ``foldIn(user:history:values:)`` must not run concurrently with reads.
public protocol Recommender: PairScoring, Checkpointable {
    /// Scores of every item for each of `users`, shape `[users.count, itemCount]` (full ranking).
    func scoreAllItems(users: [Int32]) -> Tensor

    /// Scores of every item for a user described only by their interactions (`values` aligned with
    /// `history`, `nil` for all ones): a new user, or one whose history changed since training.
    func scoreAllItems(history: [Int32], values: [Float]?) -> [Float]

    /// Stores `user`'s representation computed from `history`, so that later calls for that user
    /// reflect it; `user == userCount` adds a new user. Models that score from the history itself
    /// (item-based ones) keep the history.
    func foldIn(user: Int, history: [Int32], values: [Float]?) throws

    /// The `count` items most similar to `item` under the model, best first, `item` itself excluded.
    func similarItems(to item: Int32, count: Int) -> [TopK.Entry]
}

extension Recommender {
    /// The `count` best items for a known user, skipping `excluded` (sorted ascending, typically
    /// the user's training items).
    public func recommend(user: Int, count: Int, excluding excluded: ArraySlice<Int32> = []) -> [TopK.Entry] {
        let scores = scoreAllItems(users: [Int32(user)])
        return TopK.select(scores.readPointer, count: itemCount, k: count, excluding: excluded)
    }

    /// The `count` best items for a user described by `history`; the history's own items are
    /// skipped unless `includeHistory`.
    public func recommend(history: [Int32], values: [Float]? = nil, count: Int, includeHistory: Bool = false) -> [TopK.Entry] {
        let scores = scoreAllItems(history: history, values: values)
        let excluded = includeHistory ? [] : ArraySlice(history.sorted())
        return scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: itemCount, k: count, excluding: excluded) }
    }

    /// Pair scores read from full rows: fine for evaluation; models with a cheaper pair path override it.
    public func scores(users: [Int32], items: [Int32]) -> [Float] {
        precondition(users.count == items.count, "scores(users:items:): \(users.count) users, \(items.count) items")
        var out = [Float](repeating: 0, count: users.count)
        var start = 0
        while start < users.count {
            // Consecutive pairs of the same user share one full row.
            var end = start + 1
            while end < users.count && users[end] == users[start] { end += 1 }
            let row = scoreAllItems(users: [users[start]])
            let p = row.readPointer
            for k in start..<end { out[k] = p[Int(items[k])] }
            start = end
        }
        return out
    }
}

/// Checks fold-in arguments shared by every model.
public func validateFoldIn(user: Int, userCount: Int, history: [Int32], values: [Float]?, itemCount: Int) throws(ModelError) {
    guard user >= 0 && user <= userCount else {
        throw .invalidArgument("fold-in: user \(user) is neither known (0..<\(userCount)) nor the next new one (\(userCount))")
    }
    if let bad = history.first(where: { $0 < 0 || Int($0) >= itemCount }) {
        throw .invalidArgument("fold-in: item \(bad) is not among the model's \(itemCount) items")
    }
    if let values, values.count != history.count {
        throw .invalidArgument("fold-in: \(values.count) values for \(history.count) items")
    }
}

import Foundation
import StarlingData
import StarlingTensor
import Synchronization

/// The non-personalised baseline: every user gets the same item scores, the item's training
/// popularity.
///
/// - Score of item `i`: the number of training users who interacted with `i`
///   (``Configuration/Weighting/users``), or the sum of their values (``Configuration/Weighting/values``).
/// - ``foldIn(user:history:values:)`` stores the user's history only so that callers can exclude
///   it (``history(of:)``); scores do not change.
/// - ``similarItems(to:count:)`` has no notion of similarity: it returns the most popular other items.
public final class Popularity: Recommender {
    /// What an item's score counts.
    public struct Configuration: Codable, Sendable, Equatable {
        public enum Weighting: String, Codable, Sendable, CaseIterable {
            /// The number of users who interacted with the item.
            case users
            /// The sum of the interactions' values (counts, ratings); 1 each where the data has none.
            case values
        }

        public var weighting: Weighting

        public init(weighting: Weighting = .users) {
            self.weighting = weighting
        }
    }

    public let configuration: Configuration
    /// The score of each item (the same for every user).
    public let itemScores: [Float]
    let histories: Mutex<ItemBased.Histories>

    init(configuration: Configuration, itemScores: [Float], histories: ItemBased.Histories) {
        self.configuration = configuration
        self.itemScores = itemScores
        self.histories = Mutex(histories)
    }

    /// Counts item popularity in `data` (users × items).
    public static func fit(_ data: InteractionMatrix, configuration: Configuration = Configuration(),
                           events: (FitEvent) -> Void = { _ in }) -> Popularity {
        let start = Date()
        var scores = [Float](repeating: 0, count: data.itemCount)
        switch configuration.weighting {
        case .users:
            for (i, c) in data.itemPopularity.enumerated() { scores[i] = Float(c) }
        case .values:
            // Summed in Double so the result does not depend on the order of large sums.
            var sums = [Double](repeating: 0, count: data.itemCount)
            for k in 0..<data.count { sums[Int(data.itemIndices[k])] += Double(data.values?[k] ?? 1) }
            for i in 0..<data.itemCount { scores[i] = Float(sums[i]) }
        }
        events(.message("Popularity: counted \(data.count) interactions over \(data.itemCount) items in \(ItemBased.seconds(since: start)) s"))
        return Popularity(configuration: configuration, itemScores: scores,
                          histories: ItemBased.Histories(data, keepValues: false))
    }

    public var modelName: String { "Popularity" }
    public var userCount: Int { histories.userCount }
    public var itemCount: Int { itemScores.count }
    public var parameters: [Parameter] { [] }

    /// `user`'s items (training, or the last fold-in), sorted: pass them as `excluding` to
    /// ``Recommender/recommend(user:count:excluding:)`` to recommend unseen items only.
    public func history(of user: Int) -> ArraySlice<Int32> {
        histories.items(of: user)
    }

    public func scores(users: [Int32], items: [Int32]) -> [Float] {
        precondition(users.count == items.count, "Popularity.scores: \(users.count) users, \(items.count) items")
        return items.map { itemScores[Int($0)] }
    }

    public func scoreAllItems(users: [Int32]) -> Tensor {
        let n = itemCount, known = userCount
        var out = Tensor(uninitializedShape: [users.count, n])
        let p = out.writePointer()
        itemScores.withUnsafeBufferPointer { s in
            for (r, u) in users.enumerated() {
                precondition(u >= 0 && Int(u) < known, "Popularity.scoreAllItems: user \(u) is not among the \(known) users")
                (p + r * n).update(from: s.baseAddress!, count: n)
            }
        }
        return out
    }

    /// The popularity scores (the history does not change them).
    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        precondition(values == nil || values!.count == history.count, "Popularity: \(values!.count) values for \(history.count) items")
        precondition(history.allSatisfy { $0 >= 0 && Int($0) < itemCount }, "Popularity: an item of the history is not among the \(itemCount) items")
        return itemScores
    }

    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try histories.foldIn(user: user, history: history, values: values, itemCount: itemScores.count, keepValues: false)
    }

    /// The most popular items other than `item` (popularity has no notion of similarity).
    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        precondition(item >= 0 && Int(item) < itemCount, "Popularity.similarItems: item \(item) is not among the \(itemCount) items")
        return itemScores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: itemCount, k: count, excluding: [item]) }
    }

    // MARK: checkpoints

    /// The `model` metadata value of Popularity checkpoints.
    public static let checkpointKind = "popularity"

    public func checkpoint() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(tensors: ["item_scores": Tensor(itemScores)],
                                   metadata: try ModelCheckpoint.metadata(kind: Popularity.checkpointKind, configuration: configuration))
        try histories.withLock { try $0.encode(into: &file) }
        return file
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``; also returns the file's metadata.
    public static func load(from url: URL) throws -> (model: Popularity, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        let scores = try file.tensor("item_scores")
        guard scores.rank == 1 else {
            throw CheckpointError.badOffsets(path: url.path, tensor: "item_scores", reason: "shape \(scores.shape) is not a vector")
        }
        let histories = try ItemBased.Histories.decode(file, itemCount: scores.count, keepValues: false, path: url.path)
        return (Popularity(configuration: configuration, itemScores: scores.scalars, histories: histories), file.metadata)
    }
}

import Foundation

/// The leave-one-out split of the NCF paper (He et al. 2017), as published in
/// `hexiangnan/neural_collaborative_filtering/Data`:
///
/// - `<name>.train.rating` (user, item, rating, timestamp) or `<name>.train.pairs` (user, item):
///   training interactions, every line an implicit positive;
/// - `<name>.test.rating`: one held-out (user, item) per user;
/// - `<name>.test.negative`: `(user,item)` then the 99 sampled negatives of that user.
///
/// Ids are the split's own 0-based ids.
public struct NCFSplit: Sendable {
    /// Training positives.
    public let train: InteractionMatrix
    /// The held-out item of each user (`-1` for a user without one).
    public let testItems: [Int32]
    /// The given negatives of each user's test item (empty for a user without one).
    public let testNegatives: [[Int32]]
    /// A short name for reports, e.g. `ncf-ml-1m`.
    public let name: String

    /// Loads `<name>.train.{pairs,rating}`, `<name>.test.rating` and `<name>.test.negative` from `directory`.
    public static func load(directory: URL, name: String = "ml-1m", datasetName: String? = nil) throws(DataError) -> NCFSplit {
        let pairsURL = directory.appendingPathComponent("\(name).train.pairs")
        let ratingURL = directory.appendingPathComponent("\(name).train.rating")
        let trainURL = FileManager.default.fileExists(atPath: pairsURL.path) ? pairsURL : ratingURL
        guard FileManager.default.fileExists(atPath: trainURL.path) else {
            throw .missingFile(path: pairsURL.path, hint: "neither \(name).train.pairs nor \(name).train.rating is in \(directory.path)")
        }
        var pairs: [(user: Int32, item: Int32)] = []
        pairs.reserveCapacity(1_000_000)
        var maxUser = -1, maxItem = -1
        try DelimitedText(contentsOf: trainURL).forEachLine { line throws(DataError) in
            let u = try line.int(0, name: "user"), i = try line.int(1, name: "item")
            guard u >= 0 && i >= 0 else { throw .malformedLine(path: line.path, line: line.number, reason: "negative id") }
            pairs.append((Int32(u), Int32(i)))
            maxUser = max(maxUser, u); maxItem = max(maxItem, i)
        }
        var tests: [(user: Int, item: Int)] = []
        try DelimitedText(contentsOf: directory.appendingPathComponent("\(name).test.rating")).forEachLine { line throws(DataError) in
            let u = try line.int(0, name: "user"), i = try line.int(1, name: "item")
            guard u >= 0 && i >= 0 else { throw .malformedLine(path: line.path, line: line.number, reason: "negative id") }
            tests.append((u, i))
            maxUser = max(maxUser, u); maxItem = max(maxItem, i)
        }
        var negativesByLine: [(user: Int, item: Int, negatives: [Int32])] = []
        let negativePath = directory.appendingPathComponent("\(name).test.negative")
        try DelimitedText(contentsOf: negativePath).forEachLine { line throws(DataError) in
            let head = try line.string(0)
            let parts = head.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            guard head.hasPrefix("("), head.hasSuffix(")"), parts.count == 2,
                  let u = Int(parts[0]), let i = Int(parts[1]) else {
                throw .malformedLine(path: line.path, line: line.number, reason: "first field must be '(user,item)', found '\(head)'")
            }
            var negatives: [Int32] = []
            negatives.reserveCapacity(line.fields.count - 1)
            for f in 1..<line.fields.count {
                let v = try line.int(f, name: "negative item")
                guard v >= 0 else { throw .malformedLine(path: line.path, line: line.number, reason: "negative item id \(v)") }
                negatives.append(Int32(v))
                maxItem = max(maxItem, v)
            }
            negativesByLine.append((u, i, negatives))
        }
        let userCount = maxUser + 1, itemCount = maxItem + 1
        var testItems = [Int32](repeating: -1, count: userCount)
        for t in tests { testItems[t.user] = Int32(t.item) }
        var testNegatives = [[Int32]](repeating: [], count: userCount)
        for (k, n) in negativesByLine.enumerated() {
            guard n.user < userCount, testItems[n.user] == Int32(n.item) else {
                throw .inconsistent(path: negativePath.path,
                                    reason: "line \(k + 1) names (\(n.user),\(n.item)), which is not that user's test item")
            }
            testNegatives[n.user] = n.negatives
        }
        return NCFSplit(train: InteractionMatrix(userCount: userCount, itemCount: itemCount, pairs: pairs),
                        testItems: testItems, testNegatives: testNegatives, name: datasetName ?? "ncf-\(name)")
    }

    public init(train: InteractionMatrix, testItems: [Int32], testNegatives: [[Int32]], name: String) {
        self.train = train
        self.testItems = testItems
        self.testNegatives = testNegatives
        self.name = name
    }

    /// The users that have a test item.
    public var testUsers: [Int] { testItems.indices.filter { testItems[$0] >= 0 } }
}

extension NCFSplit {
    /// A validation split carved out of the training data, for model selection without looking at
    /// the test set: for each user with at least `minimumTrainItems` training items, one random
    /// training item is held out and given `negatives` uniformly sampled negatives (items the user
    /// has in neither training nor test).
    ///
    /// - Returns: the training data without the held-out items, and the validation split (whose
    ///   `train` is that reduced training data).
    public func holdingOutValidation(negatives: Int = 99, minimumTrainItems: Int = 2, seed: UInt64 = 7)
        -> (train: InteractionMatrix, validation: NCFSplit) {
        var rng = RandomGenerator(seed: seed)
        var held = [Int32](repeating: -1, count: train.userCount)
        var pairs: [(user: Int32, item: Int32)] = []
        pairs.reserveCapacity(train.count)
        for u in 0..<train.userCount {
            let items = train.items(of: u)
            if items.count >= minimumTrainItems {
                held[u] = items[items.startIndex + rng.nextInt(below: items.count)]
            }
            for i in items where i != held[u] { pairs.append((Int32(u), i)) }
        }
        let reduced = InteractionMatrix(userCount: train.userCount, itemCount: train.itemCount, pairs: pairs)
        var validationNegatives = [[Int32]](repeating: [], count: train.userCount)
        for u in 0..<train.userCount where held[u] >= 0 {
            var chosen = Set<Int32>()
            var list: [Int32] = []
            while list.count < negatives && chosen.count < train.itemCount - train.items(of: u).count - 1 {
                let item = Int32(rng.nextInt(below: train.itemCount))
                if train.contains(user: u, item: item) || item == testItems[u] || !chosen.insert(item).inserted { continue }
                list.append(item)
            }
            validationNegatives[u] = list
        }
        return (reduced, NCFSplit(train: reduced, testItems: held, testNegatives: validationNegatives, name: "\(name) (validation hold-out)"))
    }
}

import StarlingTensor

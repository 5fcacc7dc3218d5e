import StarlingTensor

/// A dataset cut into training, optional validation and test events. The three parts share the
/// users, items and metadata of the original, so their matrices have the same shape; each part
/// keeps its events in the original time order. ``protocolDescription`` says how the cut was
/// made, for labelling results.
public struct DatasetSplit: Sendable {
    /// Training events.
    public let train: Dataset
    /// Validation events, when the split makes them.
    public let validation: Dataset?
    /// Test events.
    public let test: Dataset
    /// How the split was made, e.g. `random 80/0/20 per interaction, seed 42`.
    public let protocolDescription: String

    /// A split from its parts (which should share users and items).
    public init(train: Dataset, validation: Dataset?, test: Dataset, protocolDescription: String) {
        self.train = train
        self.validation = validation
        self.test = test
        self.protocolDescription = protocolDescription
    }

    /// Builds the three parts from a part number per event (0 train, 1 validation, 2 test).
    static func assemble(_ d: Dataset, parts: [UInt8], hasValidation: Bool, description: String) -> DatasetSplit {
        var lists: [[Int]] = [[], [], []]
        for (k, p) in parts.enumerated() { lists[Int(p)].append(k) }
        return DatasetSplit(train: d.selectingEvents(lists[0], name: "\(d.name)/train"),
                            validation: hasValidation ? d.selectingEvents(lists[1], name: "\(d.name)/validation") : nil,
                            test: d.selectingEvents(lists[2], name: "\(d.name)/test"),
                            protocolDescription: description)
    }

    /// The first `round(n × trainFraction)` events of `order` train, the next
    /// `round(n × validationFraction)` validate, the rest test.
    static func cut(_ d: Dataset, order: [Int], trainFraction: Double, validationFraction: Double, label: String, suffix: String) -> DatasetSplit {
        let n = order.count
        let trainCount = Int((Double(n) * trainFraction).rounded())
        let validationCount = min(n - trainCount, Int((Double(n) * validationFraction).rounded()))
        var parts = [UInt8](repeating: 2, count: n)
        for k in 0..<trainCount { parts[order[k]] = 0 }
        for k in trainCount..<(trainCount + validationCount) { parts[order[k]] = 1 }
        let test = 1 - trainFraction - validationFraction
        return assemble(d, parts: parts, hasValidation: validationFraction > 0,
                        description: "\(label) \(percent(trainFraction))/\(percent(validationFraction))/\(percent(test))\(suffix)")
    }

    static func percent(_ x: Double) -> String {
        let p = (x * 100 * 1e6).rounded() / 1e6  // 1 − 0.8 is 0.19999…
        return p == p.rounded() ? String(Int(p)) : String(p)
    }

    /// Random split per interaction: the events are shuffled with `seed`, the first
    /// `round(n × trainFraction)` go to training, the next `round(n × validationFraction)` to
    /// validation, the rest to test.
    public static func random(_ d: Dataset, trainFraction: Double, validationFraction: Double = 0, seed: UInt64) -> DatasetSplit {
        precondition(trainFraction >= 0 && validationFraction >= 0 && trainFraction + validationFraction <= 1,
                     "DatasetSplit.random: fractions must be non-negative and sum to at most 1")
        var order = Array(0..<d.eventCount)
        var rng = RandomGenerator(seed: seed)
        rng.shuffle(&order)
        return cut(d, order: order, trainFraction: trainFraction, validationFraction: validationFraction,
                   label: "random", suffix: " per interaction, seed \(seed)")
    }

    /// Global temporal split at a time: events before `cutoff` (Unix seconds) train, the rest
    /// test. Needs timestamps.
    public static func globalTemporal(_ d: Dataset, cutoff: Int64) -> DatasetSplit {
        guard let timestamps = d.events.timestamps else {
            preconditionFailure("DatasetSplit.globalTemporal(cutoff:): \(d.name) has no timestamps")
        }
        let parts = timestamps.map { $0 < cutoff ? UInt8(0) : 2 }
        return assemble(d, parts: parts, hasValidation: false, description: "global temporal, train before t=\(cutoff)")
    }

    /// Global temporal split by share: in time order (``EventLog/timeOrder()``: ties and a log
    /// without timestamps in input order) the first `round(n × trainFraction)` events train, the
    /// next `round(n × validationFraction)` validate, the rest test.
    public static func globalTemporal(_ d: Dataset, trainFraction: Double, validationFraction: Double = 0) -> DatasetSplit {
        precondition(trainFraction >= 0 && validationFraction >= 0 && trainFraction + validationFraction <= 1,
                     "DatasetSplit.globalTemporal: fractions must be non-negative and sum to at most 1")
        return cut(d, order: d.events.timeOrder(), trainFraction: trainFraction, validationFraction: validationFraction,
            label: "global temporal", suffix: "")
    }

    /// Per-user leave-one-out by time: each user's last event is the test event and, with
    /// `validation`, the second last the validation event; users with too few events (fewer than
    /// 3 with validation, 2 without) keep them all for training — SASRec's `data_partition`.
    public static func leaveOneOut(_ d: Dataset, validation: Bool = false) -> DatasetSplit {
        let (start, order) = d.events.eventsByUser(userCount: d.userCount)
        var parts = [UInt8](repeating: 0, count: d.eventCount)
        let minimum = validation ? 3 : 2
        for u in 0..<d.userCount where start[u + 1] - start[u] >= minimum {
            parts[order[start[u + 1] - 1]] = 2
            if validation { parts[order[start[u + 1] - 2]] = 1 }
        }
        return assemble(d, parts: parts, hasValidation: validation,
                        description: "per-user leave-one-out by time\(validation ? " (second last = validation)" : "")")
    }

    /// Per-user split by time: each user's events in time order are cut into train, validation
    /// and test shares as RecBole's `split_by_ratio` does: validation and test get
    /// `floor(n × fraction)` events each, training the rest; then, while training keeps more than
    /// one event, a part whose share is between 0 and 1 event gets one (test first).
    public static func perUserTemporal(_ d: Dataset, trainFraction: Double, validationFraction: Double = 0) -> DatasetSplit {
        precondition(trainFraction >= 0 && validationFraction >= 0 && trainFraction + validationFraction <= 1,
                     "DatasetSplit.perUserTemporal: fractions must be non-negative and sum to at most 1")
        let testFraction = 1 - trainFraction - validationFraction
        let (start, order) = d.events.eventsByUser(userCount: d.userCount)
        var parts = [UInt8](repeating: 0, count: d.eventCount)
        for u in 0..<d.userCount {
            let n = start[u + 1] - start[u]
            let counts = userCounts(n, [trainFraction, validationFraction, testFraction])
            for k in 0..<n {
                parts[order[start[u] + k]] = k < counts[0] ? 0 : k < counts[0] + counts[1] ? 1 : 2
            }
        }
        return assemble(d, parts: parts, hasValidation: validationFraction > 0,
                        description: "per-user temporal \(percent(trainFraction))/\(percent(validationFraction))/\(percent(testFraction))")
    }

    /// RecBole's `_calcu_split_ids` for one user's `n` events.
    static func userCounts(_ n: Int, _ ratios: [Double]) -> [Int] {
        var counts = ratios.map { Int((Double(n) * $0 + 1e-9).rounded(.down)) }
        counts[0] = n - counts[1...].reduce(0, +)
        for i in stride(from: ratios.count - 1, through: 1, by: -1) {
            if counts[0] <= 1 { break }
            let share = ratios[i] * Double(n)
            if share > 1e-9 && share < 1 - 1e-9 && counts[i] == 0 {
                counts[i] += 1
                counts[0] -= 1
            }
        }
        return counts
    }
}

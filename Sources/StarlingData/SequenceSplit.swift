/// Per-user item sequences split as in SASRec's `data_partition`: for a user with at least three
/// events, the last item is the test item, the second last the validation item, and the rest the
/// training sequence; a user with fewer events keeps them all for training and has neither.
public struct SequenceSplit: Sendable {
    /// The number of users.
    public let userCount: Int
    /// The number of items.
    public let itemCount: Int
    /// User `u`'s training items in time order are `trainItems[trainStart[u]..<trainStart[u + 1]]`.
    public let trainStart: [Int]
    /// All training sequences, concatenated.
    public let trainItems: [Int32]
    /// Each user's validation item, or `-1`.
    public let validationItems: [Int32]
    /// Each user's test item, or `-1`.
    public let testItems: [Int32]

    /// Splits `dataset`'s events, in time order (see ``EventLog/timeOrder()``).
    public init(_ dataset: Dataset) {
        let (start, order) = dataset.events.eventsByUser(userCount: dataset.userCount)
        var trainStart = [0]
        trainStart.reserveCapacity(dataset.userCount + 1)
        var train: [Int32] = []
        train.reserveCapacity(order.count)
        var validation = [Int32](repeating: -1, count: dataset.userCount)
        var test = [Int32](repeating: -1, count: dataset.userCount)
        let items = dataset.events.items
        for u in 0..<dataset.userCount {
            let events = order[start[u]..<start[u + 1]]
            if events.count >= 3 {
                for k in events.dropLast(2) { train.append(items[k]) }
                validation[u] = items[events[events.endIndex - 2]]
                test[u] = items[events[events.endIndex - 1]]
            } else {
                for k in events { train.append(items[k]) }
            }
            trainStart.append(train.count)
        }
        userCount = dataset.userCount
        itemCount = dataset.itemCount
        self.trainStart = trainStart
        trainItems = train
        validationItems = validation
        testItems = test
    }

    /// User `u`'s training sequence, oldest first.
    public func trainSequence(of user: Int) -> ArraySlice<Int32> { trainItems[trainStart[user]..<trainStart[user + 1]] }

    /// The users that have a test item.
    public var testUsers: [Int] { testItems.indices.filter { testItems[$0] >= 0 } }

    /// The training items as a user × item matrix (repeats merged), for excluding seen items.
    public var trainMatrix: InteractionMatrix {
        InteractionMatrix(itemCount: itemCount, sequences: (0..<userCount).map { trainSequence(of: $0) })
    }
}

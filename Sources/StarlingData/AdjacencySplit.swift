import Foundation

/// A train/test split stored as adjacency lines, one user per line: `user item item …`
/// (space-separated, 0-based ids), as published for LightGCN and NGCF (`train.txt`, `test.txt`).
public struct AdjacencySplit: Sendable {
    public let train: InteractionMatrix
    public let test: InteractionMatrix
    /// A short name for reports, e.g. `lightgcn-gowalla`.
    public let name: String

    public init(train: InteractionMatrix, test: InteractionMatrix, name: String) {
        precondition(train.userCount == test.userCount && train.itemCount == test.itemCount,
                     "AdjacencySplit: train is \(train.userCount)×\(train.itemCount), test \(test.userCount)×\(test.itemCount)")
        self.train = train
        self.test = test
        self.name = name
    }

    /// Loads `train.txt` and `test.txt` from `directory`. Users and items are counted over both files.
    public static func load(directory: URL, name: String) throws(DataError) -> AdjacencySplit {
        let trainLists = try readLines(directory.appendingPathComponent("train.txt"))
        let testLists = try readLines(directory.appendingPathComponent("test.txt"))
        var userCount = 0, itemCount = 0
        for list in trainLists + testLists {
            userCount = max(userCount, Int(list.user) + 1)
            if let m = list.items.max() { itemCount = max(itemCount, Int(m) + 1) }
        }
        func matrix(_ lists: [(user: Int32, items: [Int32])]) -> InteractionMatrix {
            InteractionMatrix(userCount: userCount, itemCount: itemCount,
                              pairs: lists.flatMap { l in l.items.map { (l.user, $0) } })
        }
        return AdjacencySplit(train: matrix(trainLists), test: matrix(testLists), name: name)
    }

    /// The LightGCN/NGCF Gowalla split under `root/lightgcn-gowalla/gowalla`.
    public static func gowalla(root: URL) throws(DataError) -> AdjacencySplit {
        let dir = try DataRoot.dataset("lightgcn-gowalla", in: root).appendingPathComponent("gowalla")
        return try load(directory: dir, name: "lightgcn-gowalla")
    }

    static func readLines(_ url: URL) throws(DataError) -> [(user: Int32, items: [Int32])] {
        var lists: [(user: Int32, items: [Int32])] = []
        try DelimitedText(contentsOf: url).forEachLine(separators: [32], mergeSeparators: true) { line throws(DataError) in
            let user = try line.int(0, name: "user")
            guard user >= 0 else { throw .malformedLine(path: line.path, line: line.number, reason: "negative user id \(user)") }
            var items: [Int32] = []
            items.reserveCapacity(line.fields.count - 1)
            for f in 1..<max(1, line.fields.count) {
                let item = try line.int(f, name: "item")
                guard item >= 0 else { throw .malformedLine(path: line.path, line: line.number, reason: "negative item id \(item)") }
                items.append(Int32(item))
            }
            lists.append((Int32(user), items))
        }
        return lists
    }

    /// Users with at least one test item (the users full-ranking protocols average over).
    public var testUsers: [Int] { (0..<test.userCount).filter { !test.items(of: $0).isEmpty } }
}

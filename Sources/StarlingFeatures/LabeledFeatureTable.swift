/// Raw feature columns with one binary label per row and task: the examples a click (or
/// click-and-purchase) model is trained and evaluated on.
public struct LabeledFeatureTable: Sendable {
    /// Where the rows came from (for reports).
    public let name: String
    /// The raw features.
    public let table: RawFeatureTable
    /// The task names, e.g. `["click"]` or `["click", "purchase"]`.
    public let tasks: [String]
    /// Labels per task (0 or 1), each with one value per row.
    public let labels: [[Float]]

    /// Rows with their labels (sizes checked).
    public init(name: String, table: RawFeatureTable, tasks: [String], labels: [[Float]]) {
        precondition(tasks.count == labels.count && labels.allSatisfy { $0.count == table.rowCount },
                     "LabeledFeatureTable \(name): one label per row and task expected")
        self.name = name
        self.table = table
        self.tasks = tasks
        self.labels = labels
    }

    /// A single-task table.
    public init(name: String, table: RawFeatureTable, labels: [Float], task: String = "click") {
        self.init(name: name, table: table, tasks: [task], labels: [labels])
    }

    /// The number of rows.
    public var rowCount: Int { table.rowCount }

    /// The share of positive labels of `task` (the first by default).
    public func positiveRate(task: Int = 0) -> Double {
        rowCount == 0 ? 0 : Double(labels[task].reduce(0, +)) / Double(rowCount)
    }

    /// The rows `rows`, in that order.
    public func selecting(_ rows: [Int], name: String? = nil) -> LabeledFeatureTable {
        LabeledFeatureTable(name: name ?? self.name, table: table.selecting(rows), tasks: tasks,
                            labels: labels.map { l in rows.map { l[$0] } })
    }
}

/// Raw feature columns by name, the input of a ``FeaturePipeline`` both when it is fitted on
/// training data and when it encodes requests at serving time (a one-row table), so that both go
/// through the same code.
public struct RawFeatureTable: Sendable {
    /// The number of rows.
    public let rowCount: Int
    /// The columns by name.
    public private(set) var columns: [String: FeatureColumn] = [:]

    /// An empty table of `rowCount` rows.
    public init(rowCount: Int) {
        precondition(rowCount >= 0, "RawFeatureTable: negative row count")
        self.rowCount = rowCount
    }

    /// Adds (or replaces) a column; its length must be the table's row count.
    public mutating func set(_ name: String, _ column: FeatureColumn) throws(FeatureError) {
        guard column.count == rowCount else { throw .rowCountMismatch(column: name, expected: rowCount, found: column.count) }
        if case let .numeric(values) = column, let bad = values.firstIndex(where: { $0.isInfinite }) {
            throw .nonFiniteValue(column: name, row: bad)
        }
        columns[name] = column
    }

    /// The column named `name`.
    public func column(_ name: String) throws(FeatureError) -> FeatureColumn {
        guard let c = columns[name] else { throw .missingColumn(name) }
        return c
    }

    /// The table restricted to `rows`, in that order.
    public func selecting(_ rows: [Int]) -> RawFeatureTable {
        var out = RawFeatureTable(rowCount: rows.count)
        for (name, column) in columns { out.columns[name] = column.selecting(rows) }
        return out
    }
}

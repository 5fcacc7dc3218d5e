/// A click-through-rate table: per row a label, dense (numeric) features and categorical
/// features, stored row-major in flat arrays for batching.
///
/// Categorical values are dense indices into one ``IdVocabulary`` per field whose index 0 is the
/// empty string: it stands for a missing value (and, with a frozen vocabulary, for a value not
/// seen in training), so it can be the embedding row for "unknown". Missing dense values are NaN.
public struct CTRTable: Sendable {
    /// The number of rows.
    public let rowCount: Int
    /// Each row's label (0 or 1 for clicks).
    public let labels: [Float]
    /// The dense features' names (`I1`…`I13` for Criteo).
    public let denseNames: [String]
    /// Dense features, row-major: row `r`, feature `f` at `r * denseCount + f`; NaN = missing.
    public let dense: [Float]
    /// The categorical features' names (`C1`…`C26` for Criteo).
    public let categoricalNames: [String]
    /// Categorical indices, row-major: row `r`, field `f` at `r * categoricalCount + f`; 0 = missing.
    public let categorical: [Int32]
    /// Each categorical field's values; index 0 is `""` (missing or unknown).
    public let vocabularies: [IdVocabulary]
    /// What the reader did with the file.
    public let report: ReadReport

    /// A table from its columns (sizes checked).
    public init(labels: [Float], denseNames: [String], dense: [Float], categoricalNames: [String],
                categorical: [Int32], vocabularies: [IdVocabulary], report: ReadReport) {
        let rows = labels.count
        precondition(dense.count == rows * denseNames.count && categorical.count == rows * categoricalNames.count,
                     "CTRTable: feature arrays do not match \(rows) rows")
        precondition(vocabularies.count == categoricalNames.count, "CTRTable: one vocabulary per categorical field")
        rowCount = rows
        self.labels = labels
        self.denseNames = denseNames
        self.dense = dense
        self.categoricalNames = categoricalNames
        self.categorical = categorical
        self.vocabularies = vocabularies
        self.report = report
    }

    /// The number of dense features per row.
    public var denseCount: Int { denseNames.count }
    /// The number of categorical fields per row.
    public var categoricalCount: Int { categoricalNames.count }

    /// Dense feature `feature` of `row`, or `nil` when it is missing.
    public func dense(row: Int, feature: Int) -> Float? {
        let v = dense[row * denseCount + feature]
        return v.isNaN ? nil : v
    }

    /// The categorical index of `field` in `row` (0 = missing).
    public func categorical(row: Int, field: Int) -> Int32 { categorical[row * categoricalCount + field] }

    /// The categorical value of `field` in `row` as text (`""` when missing).
    public func categoricalValue(row: Int, field: Int) -> String { vocabularies[field][categorical(row: row, field: field)] }

    /// The fraction of rows with a positive label.
    public var positiveRate: Double {
        rowCount == 0 ? 0 : Double(labels.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }) / Double(rowCount)
    }
}

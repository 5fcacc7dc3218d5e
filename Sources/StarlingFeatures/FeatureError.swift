/// A problem with a feature declaration or with the data a pipeline is fitted on or applied to.
public enum FeatureError: Error, Equatable, CustomStringConvertible {
    /// A declaration is inconsistent (the message names the feature).
    case invalidSpec(feature: String, reason: String)
    /// A column the pipeline reads is absent from the table.
    case missingColumn(String)
    /// A column holds another kind of value than its feature declares.
    case wrongColumnKind(column: String, expected: String, found: String)
    /// A column's length differs from the table's row count.
    case rowCountMismatch(column: String, expected: Int, found: Int)
    /// A numeric value is infinite (NaN stands for missing and is allowed).
    case nonFiniteValue(column: String, row: Int)

    public var description: String {
        switch self {
        case let .invalidSpec(feature, reason): return "feature \(feature): \(reason)"
        case let .missingColumn(name): return "feature table has no column \(name)"
        case let .wrongColumnKind(column, expected, found): return "column \(column): expected \(expected) values, found \(found)"
        case let .rowCountMismatch(column, expected, found): return "column \(column): \(found) rows, the table has \(expected)"
        case let .nonFiniteValue(column, row): return "column \(column), row \(row): value is infinite"
        }
    }
}

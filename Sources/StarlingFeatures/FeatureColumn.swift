/// The raw values of one input column, before any encoding.
public enum FeatureColumn: Sendable, Equatable {
    /// One string per row; `nil` is missing.
    case categorical([String?])
    /// One number per row; NaN is missing.
    case numeric([Double])
    /// A list of strings per row (genres, recently viewed items, tags), most recent last.
    case multiValued([[String]])

    /// The number of rows.
    public var count: Int {
        switch self {
        case let .categorical(v): return v.count
        case let .numeric(v): return v.count
        case let .multiValued(v): return v.count
        }
    }

    /// The kind's name, for messages.
    public var kindName: String {
        switch self {
        case .categorical: return "categorical"
        case .numeric: return "numeric"
        case .multiValued: return "multi-valued"
        }
    }

    /// The column restricted to `rows`, in that order.
    public func selecting(_ rows: [Int]) -> FeatureColumn {
        switch self {
        case let .categorical(v): return .categorical(rows.map { v[$0] })
        case let .numeric(v): return .numeric(rows.map { v[$0] })
        case let .multiValued(v): return .multiValued(rows.map { v[$0] })
        }
    }
}

/// The declaration of one input feature of a ranking model: where its values come from and how
/// they become embedding rows. A list of specs is declared once; ``FeaturePipeline/fit(_:on:)``
/// learns what it needs from training data (vocabularies, means, quantiles) and the fitted
/// pipeline is saved with the model, so serving encodes requests exactly as training did.
///
/// Every feature is one *field*: per example it yields a bag of rows of one shared embedding table
/// with a weight each, so models embed all fields with one embedding-bag lookup:
/// - categorical: one row (the value's), weight 1;
/// - numeric, standardised: the field's single row, weight = the standardised value (the DeepFM
///   paper's treatment of continuous fields), 0 when missing;
/// - numeric, bucketised: the bucket's row, weight 1;
/// - multi-valued: the rows of its last `maxLength` values, weight 1/n each (the mean); an empty
///   list gives the field's "empty" row;
/// - cross: one row for the combination of its sources' encoded values, hashed into `buckets`.
///
/// Row 0 of each categorical, bucketised, multi-valued and cross field stands for a missing
/// value and, with a vocabulary, for a value not seen in training.
public struct FeatureSpec: Codable, Sendable, Equatable {
    /// How strings become row indices.
    public enum Encoding: Codable, Sendable, Equatable {
        /// A vocabulary of the training values seen at least `minCount` times; rarer and unseen
        /// values share the unknown row.
        case vocabulary(minCount: Int)
        /// The hashing trick: a stable 64-bit FNV-1a hash of the UTF-8 string modulo `buckets`
        /// (no vocabulary to keep; collisions share a row).
        case hashed(buckets: Int)
    }

    /// How numbers are transformed.
    public enum NumericTransform: Codable, Sendable, Equatable {
        /// `(x − mean) / sd` with the training mean and standard deviation.
        case standardize
        /// `log(1 + max(x, 0))`, then standardised (counts and prices with long tails).
        case logStandardize
        /// Bucketised at the training data's `count`-quantiles (duplicate boundaries merged).
        case quantileBuckets(count: Int)
        /// Bucketised at fixed boundaries: bucket `k` holds `boundaries[k-1] ≤ x < boundaries[k]`.
        case buckets(boundaries: [Double])
    }

    /// What the feature is.
    public enum Kind: Codable, Sendable, Equatable {
        case categorical(Encoding)
        case numeric(NumericTransform)
        case multiValued(Encoding, maxLength: Int)
        /// The combination of two or more categorical or bucketised features (named by their
        /// spec names), hashed into `buckets` rows.
        case cross(sources: [String], buckets: Int)
    }

    /// The field's name (unique in a pipeline; crosses name their sources by it).
    public var name: String
    /// The raw column the field reads (its name unless given; unused by crosses), so that one
    /// column can feed several fields, e.g. a number both standardised and bucketised.
    public var column: String
    /// What the feature is.
    public var kind: Kind
    /// Whether only a model's wide (linear) part uses the field; Wide & Deep's deep part skips
    /// it. Crosses are wide-only by default.
    public var wideOnly: Bool

    /// A feature reading `column` (default: `name`); `wideOnly` defaults to true for crosses and
    /// false otherwise.
    public init(_ name: String, _ kind: Kind, column: String? = nil, wideOnly: Bool? = nil) {
        self.name = name
        self.column = column ?? name
        self.kind = kind
        if let wideOnly {
            self.wideOnly = wideOnly
        } else if case .cross = kind {
            self.wideOnly = true
        } else {
            self.wideOnly = false
        }
    }

    /// A categorical feature with a vocabulary of values seen at least `minCount` times.
    public static func categorical(_ name: String, minCount: Int = 1) -> FeatureSpec {
        FeatureSpec(name, .categorical(.vocabulary(minCount: minCount)))
    }

    /// A categorical feature through the hashing trick.
    public static func hashed(_ name: String, buckets: Int) -> FeatureSpec {
        FeatureSpec(name, .categorical(.hashed(buckets: buckets)))
    }

    /// A numeric feature.
    public static func numeric(_ name: String, _ transform: NumericTransform = .standardize) -> FeatureSpec {
        FeatureSpec(name, .numeric(transform))
    }

    /// A multi-valued feature averaged over its last `maxLength` values.
    public static func multiValued(_ name: String, minCount: Int = 1, maxLength: Int = 50) -> FeatureSpec {
        FeatureSpec(name, .multiValued(.vocabulary(minCount: minCount), maxLength: maxLength))
    }

    /// A cross of categorical or bucketised features.
    public static func cross(_ sources: [String], buckets: Int) -> FeatureSpec {
        FeatureSpec(sources.joined(separator: "_x_"), .cross(sources: sources, buckets: buckets))
    }

    /// Whether the field's value is a standardised number (one row, weighted by the value).
    public var isValueField: Bool {
        if case let .numeric(t) = kind { return t == .standardize || t == .logStandardize }
        return false
    }

    func validate() throws(FeatureError) {
        func fail(_ reason: String) -> FeatureError { .invalidSpec(feature: name, reason: reason) }
        guard !name.isEmpty else { throw fail("the name is empty") }
        func check(_ encoding: Encoding) throws(FeatureError) {
            switch encoding {
            case let .vocabulary(minCount): guard minCount >= 1 else { throw fail("minCount must be at least 1, got \(minCount)") }
            case let .hashed(buckets): guard buckets >= 1 else { throw fail("buckets must be at least 1, got \(buckets)") }
            }
        }
        switch kind {
        case let .categorical(e): try check(e)
        case let .multiValued(e, maxLength):
            try check(e)
            guard maxLength >= 1 else { throw fail("maxLength must be at least 1, got \(maxLength)") }
        case let .numeric(.quantileBuckets(count)): guard count >= 2 else { throw fail("quantile buckets need a count of at least 2, got \(count)") }
        case let .numeric(.buckets(boundaries)):
            guard !boundaries.isEmpty, zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw fail("bucket boundaries must be increasing and non-empty, got \(boundaries)")
            }
        case .numeric: break
        case let .cross(sources, buckets):
            guard sources.count >= 2 else { throw fail("a cross needs at least two sources, got \(sources)") }
            guard buckets >= 1 else { throw fail("buckets must be at least 1, got \(buckets)") }
        }
    }
}

import Foundation

/// One feature after fitting: its declaration, its rows in the shared embedding table and what
/// it learned from the training data.
public struct FittedFeature: Codable, Sendable {
    /// The declaration.
    public let spec: FeatureSpec
    /// The first row of the field in the shared table.
    public let offset: Int
    /// The number of rows the field owns (row 0 of the field is missing/unknown where it has one).
    public let size: Int
    /// Vocabulary encodings: the known values; value `vocabulary[k]` is local row `k + 1`.
    public let vocabulary: [String]?
    /// Standardised numbers: the training mean and standard deviation (after the log, if any).
    public let mean: Double?
    public let standardDeviation: Double?
    /// Bucketised numbers: the boundaries.
    public let boundaries: [Double]?
    /// Crosses: the positions of the source fields in the pipeline.
    public let sources: [Int]?

    private var lookup: [String: Int32] = [:]

    private enum CodingKeys: String, CodingKey {
        case spec, offset, size, vocabulary, mean, standardDeviation, boundaries, sources
    }

    init(spec: FeatureSpec, offset: Int, size: Int, vocabulary: [String]? = nil, mean: Double? = nil,
         standardDeviation: Double? = nil, boundaries: [Double]? = nil, sources: [Int]? = nil) {
        self.spec = spec
        self.offset = offset
        self.size = size
        self.vocabulary = vocabulary
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.boundaries = boundaries
        self.sources = sources
        buildLookup()
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = try c.decode(FeatureSpec.self, forKey: .spec)
        offset = try c.decode(Int.self, forKey: .offset)
        size = try c.decode(Int.self, forKey: .size)
        vocabulary = try c.decodeIfPresent([String].self, forKey: .vocabulary)
        mean = try c.decodeIfPresent(Double.self, forKey: .mean)
        standardDeviation = try c.decodeIfPresent(Double.self, forKey: .standardDeviation)
        boundaries = try c.decodeIfPresent([Double].self, forKey: .boundaries)
        sources = try c.decodeIfPresent([Int].self, forKey: .sources)
        buildLookup()
    }

    private mutating func buildLookup() {
        guard let vocabulary else { return }
        lookup.reserveCapacity(vocabulary.count)
        for (k, v) in vocabulary.enumerated() { lookup[v] = Int32(k + 1) }
    }

    /// The local row of a string value (0 when missing or unknown).
    func localRow(of value: String?) -> Int32 {
        guard let value else { return 0 }
        switch encoding {
        case .vocabulary?: return lookupRow(value)
        case let .hashed(buckets)?: return FeatureHash.bucket(FeatureHash.fnv1a(value), buckets: buckets)
        case nil: preconditionFailure("feature \(spec.name) does not encode strings")
        }
    }

    func lookupRow(_ value: String) -> Int32 { lookup[value] ?? 0 }

    /// The local bucket row of a number (0 when missing).
    func bucketRow(of x: Double) -> Int32 {
        guard !x.isNaN, let boundaries else { return 0 }
        var lo = 0, hi = boundaries.count  // number of boundaries ≤ x
        while lo < hi {
            let mid = (lo + hi) / 2
            if boundaries[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return Int32(lo + 1)
    }

    /// The standardised value of a number (0 when missing).
    func standardized(_ x: Double) -> Float {
        guard !x.isNaN, let mean, let standardDeviation else { return 0 }
        let y = spec.kind == .numeric(.logStandardize) ? Self.logTransform(x) : x
        return Float((y - mean) / standardDeviation)
    }

    static func logTransform(_ x: Double) -> Double { Foundation.log1p(Swift.max(x, 0)) }

    var encoding: FeatureSpec.Encoding? {
        switch spec.kind {
        case let .categorical(e), let .multiValued(e, _): return e
        default: return nil
        }
    }
}

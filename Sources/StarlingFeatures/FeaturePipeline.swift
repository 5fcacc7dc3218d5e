import Foundation

/// Fitted features: turns raw columns into the bags of rows that ranking models embed. Fitted
/// once on training data, saved with the model (it is `Codable`), and applied unchanged to
/// evaluation data and to serving requests.
///
/// ```swift
/// let pipeline = try FeaturePipeline.fit([
///     .categorical("user"), .categorical("item"), .numeric("age", .quantileBuckets(count: 8)),
///     .multiValued("genres"), .cross(["gender", "item"], buckets: 50_000),
/// ], on: trainingTable)
/// let encoded = try pipeline.encode(requestTable)
/// ```
public struct FeaturePipeline: Codable, Sendable {
    /// The fields, in declaration order (the order of bags in every encoded row).
    public let fields: [FittedFeature]
    /// The number of rows of the shared embedding table all fields index.
    public let tableRows: Int

    /// Fits `specs` on `table`: vocabularies (values seen at least `minCount` times, most frequent
    /// first), means and standard deviations, quantile boundaries; lays the fields out in one table.
    public static func fit(_ specs: [FeatureSpec], on table: RawFeatureTable) throws(FeatureError) -> FeaturePipeline {
        guard !specs.isEmpty else { throw .invalidSpec(feature: "(none)", reason: "a pipeline needs at least one feature") }
        var seen = Set<String>()
        for spec in specs {
            try spec.validate()
            guard seen.insert(spec.name).inserted else { throw .invalidSpec(feature: spec.name, reason: "declared twice") }
        }
        var fields: [FittedFeature] = []
        var offset = 0
        for spec in specs {
            let fitted = try fitOne(spec, specs: specs, table: table, offset: offset)
            fields.append(fitted)
            offset += fitted.size
        }
        return FeaturePipeline(fields: fields, tableRows: offset)
    }

    private static func fitOne(_ spec: FeatureSpec, specs: [FeatureSpec], table: RawFeatureTable, offset: Int) throws(FeatureError) -> FittedFeature {
        switch spec.kind {
        case let .categorical(encoding):
            guard case let .categorical(values) = try table.column(spec.column) else {
                throw .wrongColumnKind(column: spec.column, expected: "categorical", found: try table.column(spec.column).kindName)
            }
            return fitStrings(spec, encoding: encoding, values: values.lazy.compactMap { $0 }, offset: offset)
        case let .multiValued(encoding, _):
            guard case let .multiValued(lists) = try table.column(spec.column) else {
                throw .wrongColumnKind(column: spec.column, expected: "multi-valued", found: try table.column(spec.column).kindName)
            }
            return fitStrings(spec, encoding: encoding, values: lists.lazy.flatMap { $0 }, offset: offset)
        case let .numeric(transform):
            guard case let .numeric(values) = try table.column(spec.column) else {
                throw .wrongColumnKind(column: spec.column, expected: "numeric", found: try table.column(spec.column).kindName)
            }
            let present = values.filter { !$0.isNaN }
            switch transform {
            case .standardize, .logStandardize:
                let ys = transform == .logStandardize ? present.map(FittedFeature.logTransform) : present
                let mean = ys.isEmpty ? 0 : ys.reduce(0, +) / Double(ys.count)
                let variance = ys.isEmpty ? 0 : ys.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ys.count)
                let sd = variance > 0 ? variance.squareRoot() : 1
                return FittedFeature(spec: spec, offset: offset, size: 1, mean: mean, standardDeviation: sd)
            case let .quantileBuckets(count):
                let sorted = present.sorted()
                var boundaries: [Double] = []
                if !sorted.isEmpty {
                    for k in 1..<count {
                        let b = sorted[k * (sorted.count - 1) / count]
                        if boundaries.last.map({ b > $0 }) ?? true { boundaries.append(b) }
                    }
                }
                return FittedFeature(spec: spec, offset: offset, size: boundaries.count + 2, boundaries: boundaries)
            case let .buckets(boundaries):
                return FittedFeature(spec: spec, offset: offset, size: boundaries.count + 2, boundaries: boundaries)
            }
        case let .cross(sources, buckets):
            var positions: [Int] = []
            for source in sources {
                guard let k = specs.firstIndex(where: { $0.name == source }) else {
                    throw .invalidSpec(feature: spec.name, reason: "cross source \(source) is not a declared feature")
                }
                switch specs[k].kind {
                case .categorical, .numeric(.quantileBuckets), .numeric(.buckets): positions.append(k)
                default:
                    throw .invalidSpec(feature: spec.name, reason: "cross source \(source) must be categorical or bucketised")
                }
            }
            return FittedFeature(spec: spec, offset: offset, size: buckets + 1, sources: positions)
        }
    }

    private static func fitStrings(_ spec: FeatureSpec, encoding: FeatureSpec.Encoding, values: some Sequence<String>,
                                   offset: Int) -> FittedFeature {
        switch encoding {
        case let .hashed(buckets):
            return FittedFeature(spec: spec, offset: offset, size: buckets + 1)
        case let .vocabulary(minCount):
            var counts: [String: Int] = [:]
            for v in values { counts[v, default: 0] += 1 }
            let kept = counts.filter { $0.value >= minCount }
                .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map(\.key)
            return FittedFeature(spec: spec, offset: offset, size: kept.count + 1, vocabulary: kept)
        }
    }

    /// The number of fields.
    public var fieldCount: Int { fields.count }
    /// The positions of the standardised numeric fields (their values also go to ``EncodedFeatures/values``).
    public var valueFields: [Int] { fields.indices.filter { fields[$0].spec.isValueField } }
    /// The positions of the fields a deep network reads (all but wide-only ones).
    public var deepFields: [Int] { fields.indices.filter { !fields[$0].spec.wideOnly } }
    /// The raw columns the pipeline reads.
    public var inputColumns: [String] {
        Array(Set(fields.compactMap { if case .cross = $0.spec.kind { return nil } else { return $0.spec.column } })).sorted()
    }

    /// Encodes every row of `table`. Values not seen in training map to the unknown row; a
    /// missing column or a column of the wrong kind is an error naming the column.
    public func encode(_ table: RawFeatureTable) throws(FeatureError) -> EncodedFeatures {
        let n = table.rowCount, fieldCount = fields.count
        // Single-valued fields first: their local rows are also what crosses combine.
        var singles = [[Int32]?](repeating: nil, count: fieldCount)
        var valueWeights = [[Float]?](repeating: nil, count: fieldCount)
        var lists = [[[Int32]]?](repeating: nil, count: fieldCount)
        for (f, field) in fields.enumerated() {
            let name = field.spec.column
            switch field.spec.kind {
            case .categorical:
                guard case let .categorical(values) = try table.column(name) else {
                    throw .wrongColumnKind(column: name, expected: "categorical", found: try table.column(name).kindName)
                }
                singles[f] = values.map { field.localRow(of: $0) }
            case let .multiValued(_, maxLength):
                guard case let .multiValued(values) = try table.column(name) else {
                    throw .wrongColumnKind(column: name, expected: "multi-valued", found: try table.column(name).kindName)
                }
                lists[f] = values.map { list in list.suffix(maxLength).map { field.localRow(of: $0) } }
            case let .numeric(transform):
                guard case let .numeric(values) = try table.column(name) else {
                    throw .wrongColumnKind(column: name, expected: "numeric", found: try table.column(name).kindName)
                }
                switch transform {
                case .standardize, .logStandardize: valueWeights[f] = values.map { field.standardized($0) }
                case .quantileBuckets, .buckets: singles[f] = values.map { field.bucketRow(of: $0) }
                }
            case .cross: break
            }
        }
        for (f, field) in fields.enumerated() {
            guard case let .cross(_, buckets) = field.spec.kind, let sources = field.sources else { continue }
            var rows = [Int32](repeating: 0, count: n)
            for r in 0..<n {
                var h: UInt64 = UInt64(f)
                var missing = false
                for s in sources {
                    let local = singles[s]![r]
                    if local == 0 { missing = true; break }
                    h = FeatureHash.combine(h, UInt64(local))
                }
                rows[r] = missing ? 0 : FeatureHash.bucket(h, buckets: buckets)
            }
            singles[f] = rows
        }

        let valuePositions = valueFields
        var indices: [Int32] = [], weights: [Float] = [], starts: [Int] = [0]
        indices.reserveCapacity(n * fieldCount); weights.reserveCapacity(n * fieldCount)
        starts.reserveCapacity(n * fieldCount + 1)
        var values = [Float](repeating: 0, count: n * valuePositions.count)
        for r in 0..<n {
            for (f, field) in fields.enumerated() {
                let base = Int32(field.offset)
                if let single = singles[f] {
                    indices.append(base + single[r]); weights.append(1)
                } else if let w = valueWeights[f] {
                    indices.append(base); weights.append(w[r])
                } else if let list = lists[f]?[r] {
                    if list.isEmpty {
                        indices.append(base); weights.append(1)
                    } else {
                        let share = 1 / Float(list.count)
                        for local in list { indices.append(base + local); weights.append(share) }
                    }
                }
                starts.append(indices.count)
            }
            for (k, f) in valuePositions.enumerated() { values[r * valuePositions.count + k] = valueWeights[f]![r] }
        }
        return EncodedFeatures(rowCount: n, fieldCount: fieldCount, indices: indices, weights: weights, bagStarts: starts,
                               valueFieldCount: valuePositions.count, values: values)
    }

    /// The pipeline as JSON (sorted keys), for checkpoint metadata.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A pipeline from ``json()``.
    public static func decode(json: String) throws -> FeaturePipeline {
        try JSONDecoder().decode(FeaturePipeline.self, from: Data(json.utf8))
    }
}

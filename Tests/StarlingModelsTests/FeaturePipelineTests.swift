import Foundation
import StarlingFeatures
import Testing

@Suite("Feature pipeline")
struct FeaturePipelineTests {
    /// Five rows with every kind of column.
    static func table() throws -> RawFeatureTable {
        var t = RawFeatureTable(rowCount: 5)
        try t.set("city", .categorical(["paris", "rome", "paris", nil, "oslo"]))
        try t.set("price", .numeric([1, 3, .nan, 7, 9]))
        try t.set("age", .numeric([10, 20, 30, 40, 50]))
        try t.set("tags", .multiValued([["a", "b"], [], ["b"], ["c", "a", "b"], ["zzz"]]))
        return t
    }

    @Test func vocabulariesAreFrequencyOrderedAndUnknownsShareRowZero() throws {
        let p = try FeaturePipeline.fit([.categorical("city", minCount: 1)], on: Self.table())
        #expect(p.fields[0].vocabulary == ["paris", "oslo", "rome"])  // paris twice, then alphabetical
        #expect(p.tableRows == 4)
        var request = RawFeatureTable(rowCount: 3)
        try request.set("city", .categorical(["rome", "tokyo", nil]))
        let e = try p.encode(request)
        #expect(e.indices == [3, 0, 0])  // rome is row 3; unseen and missing share row 0
        #expect(e.weights == [1, 1, 1])
        #expect(e.bagStarts == [0, 1, 2, 3])
        // minCount drops rare values.
        let rare = try FeaturePipeline.fit([.categorical("city", minCount: 2)], on: Self.table())
        #expect(rare.fields[0].vocabulary == ["paris"])
    }

    @Test func numbersAreStandardisedLoggedAndBucketised() throws {
        let p = try FeaturePipeline.fit([.numeric("price"), .numeric("age", .logStandardize),
                                         FeatureSpec("age_bucket", .numeric(.quantileBuckets(count: 4)), column: "age")],
                                        on: Self.table())
        // price: mean of 1, 3, 7, 9 is 5; population sd is sqrt(10).
        #expect(abs(p.fields[0].mean! - 5) < 1e-12 && abs(p.fields[0].standardDeviation! - 10.0.squareRoot()) < 1e-12)
        let e = try p.encode(Self.table())
        #expect(e.valueFieldCount == 2)
        #expect(abs(e.weights[0] - Float(-4 / 10.0.squareRoot())) < 1e-6)  // row 0, price 1
        #expect(e.weights[2 * 3] == 0)  // row 2, missing price → 0
        #expect(e.values[0] == e.weights[0] && e.values[1] == e.weights[1])  // values repeat the standardised fields
        let logs = [10.0, 20, 30, 40, 50].map { log1p($0) }
        let mean = logs.reduce(0, +) / 5
        #expect(abs(p.fields[1].mean! - mean) < 1e-12)
        // Quantile boundaries of 10…50 at quarters: 20, 30, 40; bucket = 1 + boundaries ≤ x.
        #expect(p.fields[2].boundaries == [20, 30, 40])
        let buckets = (0..<5).map { r in e.indices[r * 3 + 2] - Int32(p.fields[2].offset) }
        #expect(buckets == [1, 2, 3, 4, 4])
    }

    @Test func multiValuedFieldsAverageTheirLastValues() throws {
        let p = try FeaturePipeline.fit([FeatureSpec("tags", .multiValued(.vocabulary(minCount: 1), maxLength: 2))], on: Self.table())
        #expect(p.fields[0].vocabulary == ["b", "a", "c", "zzz"])
        let e = try p.encode(Self.table())
        func bag(_ r: Int) -> [(Int32, Float)] {
            (e.bagStarts[r]..<e.bagStarts[r + 1]).map { (e.indices[$0], e.weights[$0]) }
        }
        #expect(bag(0).map(\.0) == [2, 1] && bag(0).map(\.1) == [0.5, 0.5])
        #expect(bag(1).map(\.0) == [0] && bag(1).map(\.1) == [1])  // empty list: the field's empty row
        #expect(bag(3).map(\.0) == [2, 1])  // ["c", "a", "b"] keeps the last two
    }

    @Test func hashingIsStableAndCrossesCombineEncodedValues() throws {
        #expect(FeatureHash.fnv1a("a") == 0xAF63_DC4C_8601_EC8C)  // the published FNV-1a test vector
        let specs: [FeatureSpec] = [.hashed("city", buckets: 100), .numeric("age", .buckets(boundaries: [25, 45])),
                                    .cross(["city", "age"], buckets: 1_000)]
        let p = try FeaturePipeline.fit(specs, on: Self.table())
        #expect(p.tableRows == 101 + 4 + 1_001)
        let e = try p.encode(Self.table())
        let city = (0..<5).map { e.indices[$0 * 3] }
        #expect(city[0] == city[2] && city[0] == Int32(FeatureHash.bucket(FeatureHash.fnv1a("paris"), buckets: 100)))
        #expect(city[3] == 0)
        let cross = (0..<5).map { e.indices[$0 * 3 + 2] - Int32(p.fields[2].offset) }
        #expect(cross[3] == 0)  // a missing source makes the cross missing
        #expect(cross[0] != 0 && cross[0] != cross[2])  // paris at 10 vs paris at 30: different buckets of age
        // The same source values always land in the same bucket.
        var again = RawFeatureTable(rowCount: 1)
        try again.set("city", .categorical(["paris"]))
        try again.set("age", .numeric([12]))
        #expect(try p.encode(again).indices[2] == e.indices[2])
    }

    @Test func aSavedPipelineEncodesExactlyAsTheFittedOne() throws {
        let specs: [FeatureSpec] = [.categorical("city"), .numeric("price", .logStandardize), .multiValued("tags"),
                                    .numeric("age", .quantileBuckets(count: 3)), .cross(["city", "age"], buckets: 50)]
        let p = try FeaturePipeline.fit(specs, on: Self.table())
        let restored = try FeaturePipeline.decode(json: try p.json())
        let a = try p.encode(Self.table()), b = try restored.encode(Self.table())
        #expect(a.indices == b.indices && a.weights == b.weights && a.bagStarts == b.bagStarts && a.values == b.values)
        #expect(p.deepFields == [0, 1, 2, 3] && p.valueFields == [1])
    }

    @Test func badDeclarationsAndColumnsAreErrorsNamingTheField() throws {
        let t = try Self.table()
        #expect(throws: FeatureError.missingColumn("nope")) { try FeaturePipeline.fit([.categorical("nope")], on: t) }
        #expect(throws: FeatureError.wrongColumnKind(column: "price", expected: "categorical", found: "numeric")) {
            try FeaturePipeline.fit([.categorical("price")], on: t)
        }
        #expect(throws: FeatureError.self) { try FeaturePipeline.fit([.categorical("city"), .categorical("city")], on: t) }
        #expect(throws: FeatureError.self) { try FeaturePipeline.fit([.categorical("city"), .cross(["city", "tags"], buckets: 9)], on: t) }
        #expect(throws: FeatureError.self) { try FeaturePipeline.fit([.numeric("age", .buckets(boundaries: [3, 1]))], on: t) }
        #expect(throws: FeatureError.self) { try FeaturePipeline.fit([.hashed("city", buckets: 0)], on: t) }
        var short = RawFeatureTable(rowCount: 2)
        #expect(throws: FeatureError.rowCountMismatch(column: "city", expected: 2, found: 1)) { try short.set("city", .categorical(["x"])) }
        #expect(throws: FeatureError.nonFiniteValue(column: "price", row: 1)) { try short.set("price", .numeric([1, .infinity])) }
        // Serving a request without a column the pipeline reads names the column.
        let p = try FeaturePipeline.fit([.categorical("city")], on: t)
        #expect(throws: FeatureError.missingColumn("city")) { try p.encode(RawFeatureTable(rowCount: 1)) }
    }
}

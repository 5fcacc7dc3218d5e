import Foundation
import StarlingData
import Testing

@Suite("Taobao UserBehavior and Criteo")
struct TaobaoAndCriteoTests {
    @Test func taobaoSampleHasThePublishedBehaviourCounts() throws {
        let dir = try DataRoot.dataset("taobao-userbehavior", in: try TestSupport.root())
        let d = try TaobaoUserBehavior.load(dir.appendingPathComponent("UserBehavior_sample_110k.csv"))
        #expect(d.eventCount == 110_300 && d.userCount == 66_454 && d.itemCount == 84_793)
        #expect(d.events.typeCounts == [.view: 98_361, .cart: 6_063, .favorite: 3_383, .purchase: 2_493])
        #expect(d.events.timestamps!.min() == 1_511_658_000 && d.events.timestamps!.max() == 1_511_665_811)
        #expect(d.itemMetadata.allSatisfy { $0.categories.count == 1 })
        #expect(d.metadata(ofItem: "1715")?.categories == ["1464116"])
        #expect(d.interactionMatrix().count == 108_243)
        let purchases = d.interactionMatrix(types: [.purchase])
        #expect(purchases.count <= 2_493 && purchases.count > 2_400)
        let head = try TaobaoUserBehavior.load(dir.appendingPathComponent("UserBehavior_head_4321.csv"))
        #expect(head.eventCount == 4_321 && head.userCount == 43 && head.itemCount == 3_276)
        #expect(head.events.typeCounts == [.view: 3_926, .cart: 190, .favorite: 128, .purchase: 77])
    }

    @Test func taobaoRejectsUnknownBehaviours() throws {
        let url = try TestSupport.file("ub.csv", "1,2,3,pv,1511544070\n1,2,3,click,1511544071\n")
        #expect { try TaobaoUserBehavior.load(url) } throws: {
            "\($0)".hasSuffix("ub.csv:2: field 4 (behavior_type) is 'click', not pv, cart, fav or buy")
        }
        let d = try TaobaoUserBehavior.load(url, options: .skippingMalformedLines)
        #expect(d.eventCount == 1 && d.reports[0].linesSkipped == 1)
    }

    @Test func criteoSamplesReadIntoCTRTables() throws {
        let dir = try DataRoot.dataset("ctr-criteo-avazu-sample", in: try TestSupport.root()).appendingPathComponent("criteo")
        let train = try Criteo.load(dir.appendingPathComponent("train.csv"))
        #expect(train.rowCount == 7_200 && train.labels.reduce(0, +) == 1_549)
        #expect(train.denseCount == 13 && train.categoricalCount == 26)
        #expect(train.dense.count == 7_200 * 13 && train.categorical.count == 7_200 * 26)
        // Row 0 is the well-known first Criteo row: 0 1 1 5 0 1382 4 15 2 181 1 2 _ 2 68fd1e64 80e26c9b …
        #expect((0..<13).map { train.dense(row: 0, feature: $0) } == [1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, nil, 2])
        #expect(train.categoricalValue(row: 0, field: 0) == "68fd1e64" && train.categoricalValue(row: 0, field: 1) == "80e26c9b")
        #expect((0..<7_200).filter { train.dense(row: $0, feature: 0) == nil }.count == 3_247)
        #expect((0..<7_200).filter { train.categorical(row: $0, field: 25) == 0 }.count == 3_264)
        let distinct = [147, 360, 4136, 3100, 51, 7, 2645, 76, 3, 2410, 1805, 3968, 1515, 22, 1751, 3576, 9, 1012, 456, 3, 3791, 7, 12, 2007, 37, 1525]
        #expect(train.vocabularies.map { $0.count - 1 } == distinct)
        #expect(train.vocabularies.allSatisfy { $0[0] == "" })
        #expect((0..<7_200).reduce(0.0) { $0 + Double(train.dense(row: $1, feature: 4) ?? 0) } == 117_304_355)

        // Dev and test with the training vocabularies: unseen values become 0, indices agree.
        let dev = try Criteo.load(dir.appendingPathComponent("dev.csv"), vocabularies: train.vocabularies, frozen: true)
        #expect(dev.rowCount == 409 && dev.labels.reduce(0, +) == 93 && dev.dense(row: 0, feature: 1) == -1)
        #expect(dev.vocabularies == train.vocabularies)
        #expect((0..<409).filter { dev.categorical(row: $0, field: 2) == 0 }.count == 203 + 20)
        let test = try Criteo.load(dir.appendingPathComponent("test.csv"), vocabularies: train.vocabularies)
        #expect(test.rowCount == 391 && test.labels.reduce(0, +) == 86)
        #expect(test.vocabularies[0].count >= train.vocabularies[0].count)
        #expect(abs(train.positiveRate - 1549.0 / 7200) < 1e-12)
    }

    @Test func criteoMalformedRowsAreNamed() throws {
        let row = "1\t" + Array(repeating: "", count: 13).joined(separator: "\t") + "\t" + Array(repeating: "0000000a", count: 26).joined(separator: "\t")
        let url = try TestSupport.file("c.tsv", row + "\n2\t" + String(row.dropFirst(2)) + "\n" + row + "\tEXTRA\n")
        #expect { try Criteo.load(url) } throws: { "\($0)".hasSuffix("c.tsv:2: field 1 (label) is 2, not 0 or 1") }
        let t = try Criteo.load(url, options: .skippingMalformedLines)
        #expect(t.rowCount == 1 && t.report.linesSkipped == 2 && t.vocabularies[0].ids == ["", "0000000a"])
        #expect(t.report.reasons.last?.hasSuffix("c.tsv:3: expected 40 TAB-separated fields (label, I1…I13, C1…C26), found 41") == true)
    }
}

import Foundation
import StarlingData
import Testing

@Suite("Id vocabularies")
struct IdVocabularyTests {
    @Test func mapsBothWaysAndRejectsDuplicates() throws {
        var v = try IdVocabulary(ids: ["196", "u_42", "007"])
        #expect(v.count == 3 && v.index(of: "u_42") == 1 && v[2] == "007" && v.index(of: "7") == nil)
        #expect(v.insert("u_42") == 1 && v.insert("new") == 3 && v.count == 4)
        #expect(throws: DataError.self) { try IdVocabulary(ids: ["a", "b", "a"]) }
        #expect(v.subset([3, 0]).ids == ["new", "196"])
    }

    @Test func roundTripsThroughJSONAndText() throws {
        let v = try IdVocabulary(ids: ["196", "186", "Cité, la", "", "x\"y", "  padded  ", "日本"])
        let dir = try TestSupport.temporaryFolder()
        let json = dir.appendingPathComponent("users.json"), text = dir.appendingPathComponent("users.txt")
        try v.save(to: json, format: .json)
        try v.save(to: text, format: .text)
        let fromJSON = try IdVocabulary.load(from: json), fromText = try IdVocabulary.load(from: text)
        #expect(fromJSON == v && fromText == v)
        for (k, id) in v.ids.enumerated() {
            #expect(fromJSON.index(of: id) == Int32(k) && fromText.index(of: id) == Int32(k))
        }
        #expect(try String(contentsOf: text, encoding: .utf8).hasPrefix("196\n186\nCité, la\n\n"))
        // Codable inside another value.
        struct Model: Codable, Equatable { var users: IdVocabulary; var items: IdVocabulary }
        let model = Model(users: v, items: try IdVocabulary(ids: ["1", "2"]))
        #expect(try JSONDecoder().decode(Model.self, from: JSONEncoder().encode(model)) == model)
        // Ids with line breaks cannot be saved as text; JSON keeps them.
        let odd = try IdVocabulary(ids: ["a\nb"])
        #expect(throws: DataError.self) { try odd.save(to: dir.appendingPathComponent("odd.txt"), format: .text) }
        try odd.save(to: dir.appendingPathComponent("odd.json"))
        #expect(try IdVocabulary.load(from: dir.appendingPathComponent("odd.json")) == odd)
        // A corrupt file is an error naming it.
        try Data("{\"ids\":[\"a\",\"a\"]}".utf8).write(to: dir.appendingPathComponent("dup.json"))
        #expect { try IdVocabulary.load(from: dir.appendingPathComponent("dup.json")) } throws: { "\($0)".contains("dup.json") }
        try Data("a\nb".utf8).write(to: dir.appendingPathComponent("cut.txt"))
        #expect(throws: DataError.malformedLine(path: dir.appendingPathComponent("cut.txt").path, line: 2,
                                                reason: "the last id has no line end (truncated file?)")) {
            try IdVocabulary.load(from: dir.appendingPathComponent("cut.txt"))
        }
    }

    @Test func readersNumberIdsSortedOrInOrderOfAppearance() throws {
        let text = DelimitedText(text: "u,i\n10,b\n9,a\n10,007\n2,7\nx,a\n", path: "t.csv")
        let mapping = ColumnMapping(user: "u", item: "i")
        let sorted = try InteractionFileReader.load(text, mapping: mapping, name: "t")
        #expect(sorted.users.ids == ["2", "9", "10", "x"])
        #expect(sorted.items.ids == ["7", "007", "a", "b"])  // numbers first, then text by bytes; "007" is text
        let firstSeen = try InteractionFileReader.load(text, mapping: mapping, options: ReadOptions(idOrder: .firstSeen), name: "t")
        #expect(firstSeen.users.ids == ["10", "9", "2", "x"] && firstSeen.items.ids == ["b", "a", "007", "7"])
        // Both describe the same events.
        #expect(TestSupport.rows(sorted) == TestSupport.rows(firstSeen))
        #expect(TestSupport.rows(sorted) == ["10 b interaction 1.0", "9 a interaction 1.0", "10 007 interaction 1.0",
                                             "2 7 interaction 1.0", "x a interaction 1.0"])
    }

    @Test func integerIdsKeepTheirIndicesAcrossTableGrowth() throws {
        // 100000 is first met while the direct table is small (so it is hashed), then the table
        // grows past it; a negative and a huge id always take the hashed path.
        var text = "u,i\n100000,a\n-5,a\n9000000000,a\n"
        for k in 1...3000 { text += "\(k),a\n" }
        text += "100000,b\n-5,b\n9000000000,b\n3000,b\n"
        let d = try InteractionFileReader.load(DelimitedText(text: text), mapping: ColumnMapping(user: "u", item: "i"),
                                               options: ReadOptions(idOrder: .firstSeen), name: "t")
        #expect(d.userCount == 3003 && d.eventCount == 3007)
        #expect(Array(d.users.ids.prefix(4)) == ["100000", "-5", "9000000000", "1"])
        #expect(d.eventsPerUser[0] == 2 && d.eventsPerUser[1] == 2 && d.eventsPerUser[2] == 2 && d.eventsPerUser[3002] == 2)
        let sorted = try InteractionFileReader.load(DelimitedText(text: text), mapping: ColumnMapping(user: "u", item: "i"), name: "t")
        #expect(sorted.users.ids.first == "-5" && sorted.users.ids.last == "9000000000" && sorted.users.index(of: "1") == 1)
    }
}

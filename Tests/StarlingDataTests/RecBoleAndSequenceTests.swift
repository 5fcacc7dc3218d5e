import Foundation
import StarlingData
import Testing

@Suite("RecBole atomic files and SASRec sequences")
struct RecBoleAndSequenceTests {
    @Test func recBoleML100KMatchesTheRawFiles() throws {
        let root = try TestSupport.root()
        let dir = try DataRoot.dataset("ml-100k", in: root).appendingPathComponent("recbole")
        let d = try RecBoleAtomicFiles.load(directory: dir, name: "ml-100k")
        #expect(d.userCount == 943 && d.itemCount == 1682 && d.eventCount == 100_000)
        #expect(d.reports.map(\.linesRead) == [1682, 943, 100_000])
        #expect(TestSupport.rows(d).first == "196 242 rating 3.0 881250949")
        let item = try #require(d.metadata(ofItem: "543"))
        #expect(item.title == "Misérables, Les" && item.categories == ["Drama", "Musical"] && item.attributes == ["release_year": "1995"])
        #expect(d.metadata(ofItem: "1")?.categories == ["Animation", "Children's", "Comedy"])
        #expect(d.userAttributes[Int(d.users.index(of: "1")!)] == ["age": "24", "gender": "M", "occupation": "technician", "zip_code": "85711"])
        // Same events, same indices, same values as u.data.
        let raw = try MovieLens100K.load(root: root)
        #expect(d.users == raw.users && d.items == raw.items)
        #expect(d.events.users == raw.events.users && d.events.items == raw.events.items)
        #expect(d.events.values == raw.events.values && d.events.timestamps == raw.events.timestamps)
    }

    @Test func recBoleHeadersAreTypedAndChecked() throws {
        let dir = try TestSupport.folder([
            "toy.inter": "session:token\tuser_id:token\titem_id:token\n7\tu1\tpen\n8\tu2\tink\n",
            "toy.item": "item_id:token\ttitle:token_seq\tcategories:token_seq\tprice:float\npen\tBlue pen\toffice writing\t1.5\n",
        ])
        let d = try RecBoleAtomicFiles.load(directory: dir, name: "toy")
        #expect(!d.events.hasTimestamps && d.events.types == [.interaction])
        #expect(TestSupport.rows(d) == ["u1 pen interaction 1.0", "u2 ink interaction 1.0"])
        #expect(d.metadata(ofItem: "pen") == ItemMetadata(title: "Blue pen", categories: ["office", "writing"], attributes: ["price": "1.5"]))
        try Data("user_id:token\titem_id:tokn\nu\ti\n".utf8).write(to: dir.appendingPathComponent("toy.inter"))
        #expect { try RecBoleAtomicFiles.load(directory: dir, name: "toy") } throws: {
            "\($0)".contains("toy.inter:1: header field 2 'item_id:tokn' is not name:type")
        }
    }

    @Test func sasrecGamesHasThePublishedCountsAndSplit() throws {
        let d = try SASRecSequences.games(root: try TestSupport.root())
        #expect(d.userCount == 31_013 && d.itemCount == 23_715 && d.eventCount == 287_107)
        #expect(!d.events.hasTimestamps)
        // Ids 1…n are indices 0…n-1, and the sequence is the file order.
        #expect(d.users.index(of: "1") == 0 && d.items.index(of: "1") == 0)
        let split = SequenceSplit(d)
        #expect(split.testUsers.count == 30_901)
        #expect(split.trainItems.count == 287_107 - 2 * 30_901)
        let user1 = [6393, 13504, 14087, 15116, 13755, 20163, 21823, 1, 19263].map { Int32($0 - 1) }
        #expect(Array(split.trainSequence(of: 0)) == Array(user1.dropLast(2)))
        #expect(split.validationItems[0] == user1[7] && split.testItems[0] == user1[8])
        // The same split through DatasetSplit.
        let loo = DatasetSplit.leaveOneOut(d, validation: true)
        #expect(loo.train.eventCount == split.trainItems.count && loo.validation?.eventCount == 30_901 && loo.test.eventCount == 30_901)
    }

    @Test func sequenceSplitKeepsShortUsersForTraining() throws {
        let url = try TestSupport.file("seq.txt", "1 10\n1 11\n1 12\n1 13\n2 20\n2 21\n3 30\n3 31\n3 32\n")
        let split = SequenceSplit(try SASRecSequences.load(url))
        let items = try SASRecSequences.load(url).items
        func ids(_ xs: some Sequence<Int32>) -> [String] { xs.map { $0 < 0 ? "-" : items[$0] } }
        #expect(ids(split.trainSequence(of: 0)) == ["10", "11"] && ids(split.trainSequence(of: 1)) == ["20", "21"])
        #expect(ids(split.trainSequence(of: 2)) == ["30"])
        #expect(ids(split.validationItems) == ["12", "-", "31"] && ids(split.testItems) == ["13", "-", "32"])
        #expect(split.testUsers == [0, 2] && split.trainMatrix.count == 5)
        let bad = try TestSupport.file("bad.txt", "1 10\n1 11 12\n")
        #expect { try SASRecSequences.load(bad) } throws: { "\($0)".hasSuffix("bad.txt:2: expected 2 fields (user item), found 3") }
    }
}

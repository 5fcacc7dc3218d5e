import Foundation
import StarlingData
import Testing

@Suite("LightGCN adjacency splits")
struct AdjacencySplitTests {
    @Test func gowallaHasThePublishedCounts() throws {
        let split = try AdjacencySplit.gowalla(root: try DataRoot.resolve())
        #expect(split.train.userCount == 29_858 && split.train.itemCount == 40_981)
        #expect(split.train.count == 810_128)
        #expect(split.test.count == 217_242)
        #expect(split.testUsers.count == 29_858)
        // No pair is in both train and test.
        for u in stride(from: 0, to: split.train.userCount, by: 97) {
            #expect(!split.test.items(of: u).contains { split.train.contains(user: u, item: $0) })
        }
    }

    @Test func malformedLinesNameTheFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("adj-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "0 1 2\n1 3\n".write(to: dir.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        try "0 4\n1 x\n".write(to: dir.appendingPathComponent("test.txt"), atomically: true, encoding: .utf8)
        #expect { try AdjacencySplit.load(directory: dir, name: "t") } throws: { "\($0)".contains("test.txt:2:") }
        try "0 4\n1\n".write(to: dir.appendingPathComponent("test.txt"), atomically: true, encoding: .utf8)
        let ok = try AdjacencySplit.load(directory: dir, name: "t")
        #expect(ok.train.count == 3 && ok.test.count == 1 && ok.testUsers == [0] && ok.train.itemCount == 5)
    }
}

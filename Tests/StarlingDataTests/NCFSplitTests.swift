import Foundation
import StarlingData
import Testing

@Suite("The NCF MovieLens-1M split")
struct NCFSplitTests {
    @Test func loadsTheRealSplitWithItsPublishedCounts() throws {
        let root = try DataRoot.resolve()
        let split = try NCFSplit.load(directory: try DataRoot.dataset("ncf-ml-1m", in: root))
        #expect(split.train.userCount == 6040 && split.train.itemCount == 3706)
        #expect(split.train.count == 994_169)
        #expect(split.testUsers.count == 6040)
        #expect(split.testNegatives.allSatisfy { $0.count == 99 })
        // No negative is a training positive, and no test item is a training pair.
        for u in 0..<split.train.userCount {
            #expect(!split.train.contains(user: u, item: split.testItems[u]))
            #expect(!split.testNegatives[u].contains { split.train.contains(user: u, item: $0) })
        }
        // The upstream quirk the README describes: some users' test item is among their negatives.
        #expect(split.testUsers.filter { split.testNegatives[$0].contains(split.testItems[$0]) }.count == 156)
    }

    func writeSplit(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ncf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func malformedFilesNameFileAndLine() throws {
        let good = ["ml-1m.train.pairs": "0\t1\n1\t2\n", "ml-1m.test.rating": "0\t2\t5\t0\n1\t0\t5\t0\n",
                    "ml-1m.test.negative": "(0,2)\t0\n(1,0)\t1\n"]
        let ok = try NCFSplit.load(directory: try writeSplit(good))
        #expect(ok.train.count == 2 && ok.testItems == [2, 0])

        var bad = good
        bad["ml-1m.test.negative"] = "(0,2)\t0\n1,0\t1\n"
        #expect { try NCFSplit.load(directory: try writeSplit(bad)) } throws: { error in
            "\(error)".contains("ml-1m.test.negative:2:") && "\(error)".contains("(user,item)")
        }
        bad = good
        bad["ml-1m.train.pairs"] = "0\t1\n1\ttwo\n"
        #expect { try NCFSplit.load(directory: try writeSplit(bad)) } throws: { error in
            "\(error)".contains("ml-1m.train.pairs:2:")
        }
        bad = good
        bad["ml-1m.test.negative"] = "(0,1)\t0\n(1,0)\t1\n"
        #expect { try NCFSplit.load(directory: try writeSplit(bad)) } throws: { error in
            "\(error)".contains("not that user's test item")
        }
        bad = good
        bad.removeValue(forKey: "ml-1m.train.pairs")
        #expect { try NCFSplit.load(directory: try writeSplit(bad)) } throws: { error in "\(error)".contains("train.pairs") }
    }
}

@Suite("Validation hold-out")
struct ValidationSplitTests {
    @Test func holdsOutOneTrainingItemPerUserWithCleanNegatives() throws {
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<20 { for i in 0..<(u % 5 + 1) { pairs.append((Int32(u), Int32((u + 3 * i) % 40))) } }
        let train = InteractionMatrix(userCount: 20, itemCount: 40, pairs: pairs)
        let split = NCFSplit(train: train, testItems: (0..<20).map { Int32(($0 + 20) % 40) },
                             testNegatives: Array(repeating: [], count: 20), name: "toy")
        let (reduced, validation) = split.holdingOutValidation(negatives: 10, seed: 3)
        for u in 0..<20 {
            let original = train.items(of: u).count
            if original < 2 {
                #expect(validation.testItems[u] == -1 && reduced.items(of: u).count == original)
                continue
            }
            let held = validation.testItems[u]
            #expect(train.contains(user: u, item: held) && !reduced.contains(user: u, item: held))
            #expect(reduced.items(of: u).count == original - 1)
            let negatives = validation.testNegatives[u]
            #expect(negatives.count == 10 && Set(negatives).count == 10)
            #expect(!negatives.contains { train.contains(user: u, item: $0) || $0 == split.testItems[u] })
        }
        // Deterministic for a seed.
        #expect(split.holdingOutValidation(negatives: 10, seed: 3).validation.testItems == validation.testItems)
    }
}

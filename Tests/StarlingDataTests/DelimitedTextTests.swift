import Foundation
import StarlingData
import Testing

@Suite("Delimited text and data errors")
struct DelimitedTextTests {
    @Test func handlesCRLFEmptyLinesAndAMissingFinalNewline() throws {
        let text = "1\t2\r\n\r\n3\t4\n5\t6"
        var rows: [[Int]] = []
        var numbers: [Int] = []
        try DelimitedText(text: text).forEachLine { line throws(DataError) in
            rows.append([try line.int(0, name: "a"), try line.int(1, name: "b")])
            numbers.append(line.number)
        }
        #expect(rows == [[1, 2], [3, 4], [5, 6]])
        #expect(numbers == [1, 3, 4])
    }

    @Test func multiByteSeparatorsAndMergedRuns() throws {
        var fields: [[String]] = []
        try DelimitedText(text: "1::Toy Story (1995)::Animation|Children's\n").forEachLine(separators: [58], mergeSeparators: true) { line throws(DataError) in
            fields.append(try (0..<line.fields.count).map { i throws(DataError) in try line.string(i) })
        }
        #expect(fields == [["1", "Toy Story (1995)", "Animation|Children's"]])
    }

    @Test func malformedFieldNamesFileLineAndField() {
        let reader = DelimitedText(text: "1\t2\n3\tx7\n", path: "train.tsv")
        #expect(throws: DataError.malformedLine(path: "train.tsv", line: 2, reason: "field 2 (item) is not an integer: 'x7'")) {
            try reader.forEachLine { line throws(DataError) in _ = try line.int(1, name: "item") }
        }
        #expect(throws: DataError.malformedLine(path: "train.tsv", line: 1, reason: "expected at least 3 fields, found 2")) {
            try reader.forEachLine { line throws(DataError) in _ = try line.int(2, name: "rating") }
        }
    }

    @Test func dataRootPrefersExplicitThenEnvironment() throws {
        let tmp = FileManager.default.temporaryDirectory.path
        #expect(try DataRoot.resolve(explicit: tmp, environment: [:]).path == URL(fileURLWithPath: tmp).standardizedFileURL.path)
        #expect(try DataRoot.resolve(explicit: nil, environment: ["STARLING_DATA": tmp]).path == URL(fileURLWithPath: tmp).standardizedFileURL.path)
        #expect { try DataRoot.resolve(explicit: "/nonexistent/starling", environment: [:]) } throws: { error in
            "\(error)".contains("/nonexistent/starling") && "\(error)".contains("STARLING_DATA")
        }
        // An explicit path that does not exist is an error even when STARLING_DATA would work.
        #expect(throws: DataError.noDataRoot(tried: ["/nonexistent/starling"])) {
            try DataRoot.resolve(explicit: "/nonexistent/starling", environment: ["STARLING_DATA": tmp])
        }
    }
}

import Foundation
import StarlingData
import StarlingTensor
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
        // A real `::` separator keeps single colons inside titles.
        fields = []
        try DelimitedText(text: "1::Star Trek: The Motion Picture (1979)::Sci-Fi\r\n2::::\n").forEachLine(.sequence([58, 58])) { line throws(DataError) in
            fields.append(try (0..<line.fields.count).map { i throws(DataError) in try line.string(i) })
        }
        #expect(fields == [["1", "Star Trek: The Motion Picture (1979)", "Sci-Fi"], ["2", "", ""]])
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

    @Test func csvQuotingCommasDoubledQuotesAndLineBreaks() throws {
        let text = "id,title,genres\r\n11,\"American President, The (1995)\",Comedy|Drama\r\n"
            + "12,\"Say \"\"Hi\"\"\",\n13,\"two\nlines\",x\n\n14,plain,\"\"\n"
        var rows: [[String]] = []
        var numbers: [Int] = []
        try DelimitedText(text: text).forEachLine(.comma, skippingHeader: true) { line throws(DataError) in
            rows.append(try (0..<line.count).map { i throws(DataError) in try line.string(i) })
            numbers.append(line.number)
        }
        #expect(rows == [["11", "American President, The (1995)", "Comedy|Drama"], ["12", "Say \"Hi\"", ""],
                         ["13", "two\nlines", "x"], ["14", "plain", ""]])
        #expect(numbers == [2, 3, 4, 7])
        #expect(try DelimitedText(text: text).header(.comma) == ["id", "title", "genres"])
        // Quoted numbers parse as numbers.
        try DelimitedText(text: "\"42\",\"4.5\"\n").forEachLine(.comma) { line throws(DataError) in
            let a = try line.int(0, name: "a"), b = try line.double(1, name: "b")
            #expect(a == 42 && b == 4.5)
        }
    }

    @Test func csvErrorsNameTheLineWhereTheRecordStarts() {
        let unclosed = DelimitedText(text: "a,b\n1,\"open\n2,3\n", path: "x.csv")
        #expect(throws: DataError.malformedLine(path: "x.csv", line: 2, reason: "a quoted field is not closed before the end of the file")) {
            try unclosed.forEachLine(.comma) { _ throws(DataError) in }
        }
        let junk = DelimitedText(text: "1,\"a\"b,2\n3,4\n", path: "y.csv")
        #expect(throws: DataError.malformedLine(path: "y.csv", line: 1, reason: "unexpected text after the closing quote of field 2")) {
            try junk.forEachLine(.comma) { _ throws(DataError) in }
        }
        // Skipped when asked, and the next record is still read.
        var report = ReadReport(path: "y.csv")
        var seen: [Int] = []
        try? junk.forEachLine(.comma, options: .skippingMalformedLines, report: &report) { line throws(DataError) in
            seen.append(try line.int(0, name: "a"))
        }
        #expect(seen == [3] && report.linesRead == 2 && report.linesSkipped == 1)
    }

    @Test func skippedLinesAreCountedWithTheirFirstReasons() throws {
        var text = ""
        for k in 0..<20 { text += k % 3 == 0 ? "\(k)\tbad\n" : "\(k)\t\(k * 2)\n" }
        var report = ReadReport(path: "t.tsv")
        var sum = 0
        try DelimitedText(text: text, path: "t.tsv").forEachLine(.tab, options: ReadOptions(malformedLines: .skip, reasonLimit: 3), report: &report) { line throws(DataError) in
            sum += try line.int(1, name: "value")
        }
        #expect(report.linesRead == 20 && report.linesSkipped == 7 && report.linesAccepted == 13)
        #expect(report.reasons == ["t.tsv:1: field 2 (value) is not an integer: 'bad'", "t.tsv:4: field 2 (value) is not an integer: 'bad'",
                                   "t.tsv:7: field 2 (value) is not an integer: 'bad'"])
        #expect(sum == (0..<20).filter { $0 % 3 != 0 }.map { $0 * 2 }.reduce(0, +))
        #expect(report.description.contains("20 lines read, 7 skipped"))
        // Without skipping, the first bad line stops the reading.
        var strict = ReadReport(path: "t.tsv")
        #expect(throws: DataError.malformedLine(path: "t.tsv", line: 1, reason: "field 2 (value) is not an integer: 'bad'")) {
            try DelimitedText(text: text, path: "t.tsv").forEachLine(.tab, options: ReadOptions(), report: &strict) { line throws(DataError) in
                _ = try line.int(1, name: "value")
            }
        }
    }

    @Test func latin1AndUTF8WithByteOrderMark() throws {
        let latin1: [UInt8] = Array("543|Mis".utf8) + [0xE9] + Array("rables, Les (1995)\n".utf8)
        var title = ""
        try DelimitedText(bytes: latin1, encoding: .latin1).forEachLine(.bytes([124], mergeRuns: false)) { line throws(DataError) in
            title = try line.string(1)
        }
        #expect(title == "Misérables, Les (1995)")
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("userId,movieId\n1,Cité\n".utf8)
        var header: [String]?
        header = try DelimitedText(bytes: bom).header(.comma)
        #expect(header == ["userId", "movieId"])
        try DelimitedText(bytes: bom).forEachLine(.comma, skippingHeader: true) { line throws(DataError) in
            #expect(try line.string(1) == "Cité")
        }
    }

    @Test func numbersParseExactlyFromBytes() throws {
        let samples = ["0", "-0.5", "4.5", "3", "1e3", "2.5E-3", "123456789.123", "0.1", "-17", "1.7976931348623157e308",
                       "4.9e-324", "12345678901234567890", "0.000000000000000000000000001", "inf", "nan", "+7.25"]
        try DelimitedText(text: samples.joined(separator: "\t")).forEachLine(.tab) { line throws(DataError) in
            for (k, s) in samples.enumerated() {
                let v = try line.double(k, name: "x")
                if s == "nan" { #expect(v.isNaN) } else { #expect(v == Double(s)!, "\(s)") }
            }
        }
        var rng = RandomGenerator(seed: 11)
        var text = ""
        var expected: [Double] = []
        for _ in 0..<2000 {
            let v = rng.nextDouble() * 2e6 - 1e6
            let s = String(format: "%.\(rng.nextInt(below: 10))f", v)
            text += s + "\n"
            expected.append(Double(s)!)
        }
        var k = 0
        try DelimitedText(text: text).forEachLine(.tab) { line throws(DataError) in
            #expect(try line.double(0, name: "x") == expected[k])
            k += 1
        }
        for bad in ["", "-", "1.2.3", "1e", "abc", "1,5"] {
            #expect(throws: DataError.self) {
                try DelimitedText(text: "0\t\(bad)\n").forEachLine(.tab) { line throws(DataError) in _ = try line.double(1, name: "x") }
            }
        }
        // Integers: the full Int range, and overflow is an error rather than a wrapped value.
        try DelimitedText(text: "9223372036854775807\t-9223372036854775808\n").forEachLine(.tab) { line throws(DataError) in
            let a = try line.int(0, name: "a"), b = try line.int(1, name: "b")
            #expect(a == Int.max && b == Int.min)
        }
        #expect(throws: DataError.self) {
            try DelimitedText(text: "9223372036854775808\n").forEachLine(.tab) { line throws(DataError) in _ = try line.int(0, name: "a") }
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

import Foundation
import StarlingData
import Testing

@Suite("Generic CSV and JSON Lines reader")
struct InteractionFileReaderTests {
    @Test func csvByHeaderNamesWithQuotingTypesAndISODates() throws {
        let url = try TestSupport.file("events.csv", "ts;who;what;kind;amount\r\n"
            + "2024-03-01T10:00:00Z;\"Doe; Jane\";sku-1;pv;1\r\n"
            + "2024-03-01T10:05:00+01:00;\"Doe; Jane\";\"sku \"\"2\"\"\";buy;19.5\r\n"
            + "1709287200;bob;sku-1;add_to_wishlist;1\r\n\r\n")
        let mapping = ColumnMapping(user: "who", item: "what", value: "amount", timestamp: "ts", eventType: "kind",
                                    eventTypeNames: ["pv": .view, "buy": .purchase])
        let d = try InteractionFileReader.load(url, format: .delimited(separator: 59, header: true), mapping: mapping)
        #expect(d.name == "events" && d.eventCount == 3)
        #expect(TestSupport.rows(d) == ["Doe; Jane sku-1 view 1.0 1709287200", "Doe; Jane sku \"2\" purchase 19.5 1709283900",
                                        "bob sku-1 add_to_wishlist 1.0 1709287200"])
        #expect(d.reports[0].linesRead == 3)
    }

    @Test func csvByPositionWithoutHeaderAndMillisecondTimes() throws {
        let text = DelimitedText(text: "7,100,1700000000123\n8,101,1700000001999\n", path: "clicks.csv")
        let d = try InteractionFileReader.load(text, format: .delimited(separator: 44, header: false),
                                               mapping: ColumnMapping(user: 0, item: 1, timestamp: 2, timestampFormat: .unixMilliseconds,
                                                                      defaultEventType: .click), name: "clicks")
        #expect(TestSupport.rows(d) == ["7 100 click 1.0 1700000000", "8 101 click 1.0 1700000001"])
        #expect(throws: DataError.self) {
            try InteractionFileReader.load(text, format: .delimited(separator: 44, header: false), mapping: ColumnMapping(user: "u", item: "i"), name: "x")
        }
    }

    @Test func csvErrorsAndSkipping() throws {
        let text = DelimitedText(text: "u,i,r\n1,a,5\n2,,4\n3,c,x\n4,d\n5,e,1\n", path: "r.csv")
        let mapping = ColumnMapping(user: "u", item: "i", value: "r")
        #expect(throws: DataError.malformedLine(path: "r.csv", line: 3, reason: "the item field 'i' is empty")) {
            try InteractionFileReader.load(text, mapping: mapping, name: "r")
        }
        let d = try InteractionFileReader.load(text, mapping: mapping, options: .skippingMalformedLines, name: "r")
        #expect(TestSupport.rows(d) == ["1 a interaction 5.0", "5 e interaction 1.0"])
        #expect(d.reports[0].reasons == ["r.csv:3: the item field 'i' is empty", "r.csv:4: field 3 (value) is not a number: 'x'",
                                         "r.csv:5: expected at least 3 fields, found 2"])
        #expect(d.users.ids == ["1", "5"])
        #expect { try InteractionFileReader.load(text, mapping: ColumnMapping(user: "user", item: "i"), name: "r") } throws: {
            "\($0)".contains("no column 'user'")
        }
    }

    @Test func jsonLinesPickKeysAndSkipNestedValues() throws {
        let url = try TestSupport.file("events.jsonl", #"""
            {"user": "u1", "item": 42, "rating": 4.5, "time": 1700000000, "meta": {"a": [1, {"b": "}"}]}, "type": "rating"}
            {"type":"click","item":"i\"7\u00e9","user":"u2","time":"2023-11-14T22:13:20Z","rating":null}
              {"user":"u1","item":"42","rating":"3","time":1700000005,"type":"rating","tags":["x","y"]}

            """#)
        let mapping = ColumnMapping(user: "user", item: "item", value: "rating", timestamp: "time", eventType: "type")
        // A null value is a missing value: an error for the rating column.
        #expect { try InteractionFileReader.load(url, format: .jsonLines, mapping: mapping) } throws: {
            "\($0)".hasSuffix("events.jsonl:2: the object has no key 'rating' (the value)")
        }
        let noValue = ColumnMapping(user: "user", item: "item", timestamp: "time", eventType: "type")
        let d = try InteractionFileReader.load(url, format: .jsonLines, mapping: noValue)
        #expect(TestSupport.rows(d) == ["u1 42 rating 1.0 1700000000", "u2 i\"7é click 1.0 1700000000", "u1 42 rating 1.0 1700000005"])
        #expect(d.items.ids == ["42", "i\"7é"])
        let lenient = try InteractionFileReader.load(url, format: .jsonLines, mapping: mapping, options: .skippingMalformedLines)
        #expect(lenient.events.values == [4.5, 3] && lenient.reports[0].linesSkipped == 1)
    }

    @Test func jsonLinesErrorsNameTheLine() throws {
        let url = try TestSupport.file("bad.jsonl", "{\"user\":1,\"item\":2}\n{\"user\":1,\"item\":[2]}\n{\"user\":1 \"item\":2}\n{\"user\":1,\"item\":\"2}\n")
        let mapping = ColumnMapping(user: "user", item: "item")
        let d = try InteractionFileReader.load(url, format: .jsonLines, mapping: mapping, options: .skippingMalformedLines)
        #expect(d.eventCount == 1 && d.reports[0].linesSkipped == 3)
        #expect(d.reports[0].reasons.map { String($0.split(separator: "/").last!) } == [
            "bad.jsonl:2: key 'item' holds an array, not a string or a number",
            "bad.jsonl:3: not a JSON object: expected ',' or '}' at column 11",
            "bad.jsonl:4: not a JSON object: a string is not closed at column 21",
        ])
        #expect(throws: DataError.self) {
            try InteractionFileReader.load(url, format: .jsonLines, mapping: ColumnMapping(user: 0, item: 1))
        }
    }

    @Test func numericIdsStayNumericBesideEscapedFields() throws {
        let csv = DelimitedText(text: "u,i\n42,\"say \"\"hi\"\"\"\n42,plain\n", path: "e.csv")
        let a = try InteractionFileReader.load(csv, mapping: ColumnMapping(user: "u", item: "i"), name: "e")
        #expect(a.users.ids == ["42"] && a.items.ids == ["plain", "say \"hi\""])
        let jsonl = DelimitedText(text: "{\"user\":\"42\",\"item\":\"i\\\"x\"}\n{\"user\":42,\"item\":\"y\"}\n{\"user\":\"4\\u0032\",\"item\":\"y\"}\n", path: "e.jsonl")
        let b = try InteractionFileReader.load(jsonl, format: .jsonLines, mapping: ColumnMapping(user: "user", item: "item"), name: "e")
        #expect(b.users.ids == ["42"] && b.items.ids == ["i\"x", "y"] && b.eventCount == 3)
    }
}

import Foundation
import StarlingData
import Testing

@Suite("MovieLens readers")
struct MovieLensTests {
    @Test func movieLens100KHasThePublishedCountsAndMetadata() throws {
        let d = try MovieLens100K.load(root: try TestSupport.root())
        #expect(d.userCount == 943 && d.itemCount == 1682 && d.eventCount == 100_000)
        #expect(d.reports.map(\.linesRead) == [1682, 943, 100_000] && d.reports.allSatisfy { $0.linesSkipped == 0 })
        // Ids 1…n are indices 0…n-1.
        #expect(d.users.index(of: "196") == 195 && d.items.index(of: "1682") == 1681)
        #expect(TestSupport.rows(d).first == "196 242 rating 3.0 881250949")
        #expect(d.events.values.reduce(0, +) == 352_986)
        #expect(d.events.timestamps!.min() == 874_724_710 && d.events.timestamps!.max() == 893_286_638)
        let toyStory = try #require(d.metadata(ofItem: "1"))
        #expect(toyStory.title == "Toy Story (1995)" && toyStory.categories == ["Animation", "Children's", "Comedy"])
        #expect(toyStory.timestamp == 788_918_400)  // 01-Jan-1995
        #expect(toyStory.attributes["imdb_url"]?.hasPrefix("http://us.imdb.com/") == true)
        // Latin-1 titles decode.
        #expect(d.metadata(ofItem: "543")?.title == "Misérables, Les (1995)")
        #expect(d.metadata(ofItem: "1633")?.title == "Á köldum klaka (Cold Fever) (1994)")
        #expect(d.metadata(ofItem: "267")?.title == "unknown" && d.metadata(ofItem: "267")?.timestamp == nil)
        #expect(d.userAttributes[0] == ["age": "24", "gender": "M", "occupation": "technician", "zip_code": "85711"])
        let ratings = d.interactionMatrix(value: .eventValue)
        #expect(ratings.count == 100_000 && ratings.value(user: 195, item: 241) == 3)
    }

    @Test func movieLens1MReadsMoviesUsersAndTheImplicitPairs() throws {
        let d = try MovieLens1M.load(root: try TestSupport.root())
        #expect(d.userCount == 6040 && d.itemCount == 3883 && d.eventCount == 1_000_209)
        #expect(!d.events.hasTimestamps && d.events.types == [.interaction])
        #expect(d.eventsPerItem.filter { $0 > 0 }.count == 3706)
        #expect(d.eventsPerUser.min() == 20)
        let compact = d.compacted()
        #expect(compact.itemCount == 3706 && compact.userCount == 6040 && compact.eventCount == 1_000_209)
        #expect(d.metadata(ofItem: "1")?.categories == ["Animation", "Children's", "Comedy"])
        #expect(d.metadata(ofItem: "73")?.title == "Misérables, Les (1995)")
        #expect(d.metadata(ofItem: "73")?.attributes["year"] == "1995")
        // Single colons in titles survive the `::` separator.
        #expect(d.metadata(ofItem: "1371")?.title == "Star Trek: The Motion Picture (1979)")
        #expect(d.userAttributes[0] == ["gender": "F", "age": "1", "occupation": "10", "zip_code": "48067"])
        #expect(d.interactionMatrix().count == 1_000_209)
    }

    @Test func movieLens1MRatingsFileWhenPresent() throws {
        let dir = try TestSupport.folder([
            "movies.dat": "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Jumanji (1995)::Adventure\n",
            "users.dat": "1::F::1::10::48067\n",
            "ratings.dat": "1::1193::5::978300760\r\n1::2::3::978302109\r\n",
        ])
        let d = try MovieLens1M.load(directory: dir)
        #expect(d.events.hasTimestamps && d.events.types == [.rating])
        #expect(TestSupport.rows(d) == ["1 1193 rating 5.0 978300760", "1 2 rating 3.0 978302109"])
        #expect(d.items.ids == ["1", "2", "1193"])
        try Data("1::1193::5\n".utf8).write(to: dir.appendingPathComponent("ratings.dat"))
        #expect { try MovieLens1M.load(directory: dir) } throws: {
            "\($0)".hasSuffix("ratings.dat:1: expected 4 fields (UserID::MovieID::Rating::Timestamp), found 3")
        }
    }

    @Test func movieLensLatestCSVWithQuotedTitlesTagsAndLinks() throws {
        let dir = try TestSupport.folder([
            "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,11,4.5,964981247\n2,29,0.5,1445714835\n",
            "movies.csv": "movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\r\n"
                + "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
                + "29,\"City of Lost Children, The (Cité des enfants perdus, La) (1995)\",Adventure|Drama\r\n"
                + "40,\"Quote \"\"Me\"\" (2001)\",(no genres listed)\r\n",
            "tags.csv": "userId,movieId,tag,timestamp\n2,11,\"politics, US\",1445714994\n2,11,funny,1445714996\n3,11,funny,1445714999\n",
            "links.csv": "movieId,imdbId,tmdbId\n1,0114709,862\n11,0112346,\n",
        ])
        let d = try MovieLensLatest.load(directory: dir)
        #expect(d.userCount == 2 && d.itemCount == 4 && d.eventCount == 3)
        #expect(TestSupport.rows(d) == ["1 1 rating 4.0 964982703", "1 11 rating 4.5 964981247", "2 29 rating 0.5 1445714835"])
        let president = try #require(d.metadata(ofItem: "11"))
        #expect(president.title == "American President, The (1995)" && president.categories == ["Comedy", "Drama", "Romance"])
        #expect(president.tags == ["politics, US", "funny"] && president.attributes == ["imdbId": "0112346", "year": "1995"])
        #expect(d.metadata(ofItem: "29")?.title == "City of Lost Children, The (Cité des enfants perdus, La) (1995)")
        #expect(d.metadata(ofItem: "40")?.title == "Quote \"Me\" (2001)" && d.metadata(ofItem: "40")?.categories == [])
        #expect(d.metadata(ofItem: "1")?.attributes["tmdbId"] == "862")
        // A missing column is named.
        try Data("userId,movieId,score,timestamp\n1,1,4,0\n".utf8).write(to: dir.appendingPathComponent("ratings.csv"))
        #expect { try MovieLensLatest.load(directory: dir) } throws: { "\($0)".contains("no column 'rating'") }
    }

    @Test func sparrowMoviesCSVHasTheLatestFormat() throws {
        let url = try DataRoot.dataset("sparrow-movielens", in: try TestSupport.root()).appendingPathComponent("movies.csv")
        let d = try MovieLensLatest.loadMovies(url)
        // 982 movies: the README's 981 misses the last line, which has no final newline.
        #expect(d.itemCount == 982 && d.eventCount == 0 && d.reports[0].linesRead == 982)
        #expect(d.metadata(ofItem: "11")?.title == "American President, The (1995)")
        #expect(d.metadata(ofItem: "29")?.title == "City of Lost Children, The (Cité des enfants perdus, La) (1995)")
        #expect(d.metadata(ofItem: "29")?.categories == ["Adventure", "Drama", "Fantasy", "Mystery", "Sci-Fi"])
        #expect(d.metadata(ofItem: "1000")?.title == "Curdled (1996)" && d.metadata(ofItem: "1000")?.categories == ["Crime"])
        #expect(d.itemMetadata.filter { $0.title?.contains(",") == true }.count == 227)
    }

    @Test func malformedLinesFailOrAreSkippedAndCounted() throws {
        let dir = try TestSupport.folder(["u.data": "1\t1\t5\t881250949\n2\tx\t3\t881250950\n3\t2\t4\n4\t3\t4\t881250951\n"])
        let path = dir.appendingPathComponent("u.data").path
        #expect(throws: DataError.malformedLine(path: path, line: 2, reason: "field 2 (item id) is not an integer: 'x'")) {
            _ = try MovieLens100K.load(directory: dir)
        }
        let d = try MovieLens100K.load(directory: dir, options: .skippingMalformedLines)
        #expect(d.eventCount == 2 && d.userCount == 2 && d.itemCount == 2)  // skipped lines leave no ids behind
        #expect(d.users.ids == ["1", "4"] && d.items.ids == ["1", "3"])
        let report = d.reports[0]
        #expect(report.linesRead == 4 && report.linesSkipped == 2)
        #expect(report.reasons == ["\(path):2: field 2 (item id) is not an integer: 'x'", "\(path):3: expected at least 4 fields, found 3"])
    }
}

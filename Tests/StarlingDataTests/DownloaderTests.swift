import Foundation
import StarlingData
import Synchronization
import Testing
import ZIPFoundation

/// Counts the fetches of a transport.
final class FetchCounter: Sendable {
    let count = Mutex(0)

    var transport: MovieLensDownloader.Transport {
        { [self] source, destination in
            count.withLock { $0 += 1 }
            try await MovieLensDownloader.defaultTransport(source, destination)
        }
    }

    var value: Int { count.withLock { $0 } }
}

@Suite("MovieLens downloader (file:// archives built in the test)")
struct DownloaderTests {
    /// A zip of `folderName/` holding the real ml-100k raw files, with `edit` applied to the copy.
    static func ml100kZip(edit: (URL) throws -> Void = { _ in }) throws -> URL {
        let raw = try DataRoot.dataset("ml-100k", in: try TestSupport.root()).appendingPathComponent("raw")
        let work = try TestSupport.temporaryFolder("zip")
        let folder = work.appendingPathComponent("ml-100k")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: raw.path) {
            try FileManager.default.copyItem(at: raw.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try edit(folder)
        let zip = work.appendingPathComponent("ml-100k.zip")
        try FileManager.default.zipItem(at: folder, to: zip, compressionMethod: .deflate)
        return zip
    }

    @Test func fetchesUnzipsVerifiesAndThenHitsTheCache() async throws {
        let zip = try Self.ml100kZip()
        let cache = try TestSupport.temporaryFolder("cache")
        defer { for dir in [zip.deletingLastPathComponent(), cache] { try? FileManager.default.removeItem(at: dir) } }
        let counter = FetchCounter()
        let downloader = MovieLensDownloader(cacheDirectory: cache, transport: counter.transport)
        #expect(!downloader.isCached(.ml100k))
        let folder = try await downloader.fetch(.ml100k, from: zip)
        #expect(folder.path == cache.appendingPathComponent("ml-100k").path && downloader.isCached(.ml100k) && counter.value == 1)
        #expect(try MovieLensDownloader.sha256(of: folder.appendingPathComponent("u.data"))
                == "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490")
        let d = try MovieLens100K.load(directory: folder)
        #expect(d.eventCount == 100_000 && d.userCount == 943 && d.itemCount == 1682)

        // Cache hit: the source is gone and nothing is fetched or extracted again.
        try FileManager.default.removeItem(at: zip)
        let marker = folder.appendingPathComponent(".starling-verified")
        let before = try FileManager.default.attributesOfItem(atPath: marker.path)[.modificationDate] as? Date
        let again = try await downloader.fetch(.ml100k, from: zip)
        #expect(again == folder && counter.value == 1)
        #expect(try FileManager.default.attributesOfItem(atPath: marker.path)[.modificationDate] as? Date == before)
        let viaDataset = try await downloader.dataset(.ml100k, from: zip)
        #expect(viaDataset.eventCount == 100_000 && counter.value == 1)
    }

    @Test func aChecksumMismatchIsAnErrorAndLeavesNothingBehind() async throws {
        let zip = try Self.ml100kZip { folder in
            try Data("1\t1\t5\t881250949\n".utf8).write(to: folder.appendingPathComponent("u.data"))
        }
        let cache = try TestSupport.temporaryFolder("cache")
        defer { for dir in [zip.deletingLastPathComponent(), cache] { try? FileManager.default.removeItem(at: dir) } }
        let downloader = MovieLensDownloader(cacheDirectory: cache)
        let error = await #expect(throws: DataError.self) { try await downloader.fetch(.ml100k, from: zip) }
        guard case let .checksumMismatch(path, expected, actual)? = error else {
            Issue.record("expected a checksum mismatch, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("ml-100k/u.data") && expected == "sha256 06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490")
        #expect(actual.hasPrefix("sha256 ") && !actual.hasSuffix(expected.dropFirst(7)))
        #expect(!downloader.isCached(.ml100k))
        let left = try FileManager.default.contentsOfDirectory(atPath: cache.path)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test func archiveChecksumMissingFilesAndFailedDownloads() async throws {
        let zip = try Self.ml100kZip { folder in try FileManager.default.removeItem(at: folder.appendingPathComponent("u.genre")) }
        let cache = try TestSupport.temporaryFolder("cache")
        defer { for dir in [zip.deletingLastPathComponent(), cache] { try? FileManager.default.removeItem(at: dir) } }
        let downloader = MovieLensDownloader(cacheDirectory: cache)
        await #expect { try await downloader.fetch(.ml100k, from: zip) } throws: { error in
            "\(error)".contains("u.genre") && "\(error)".contains("the archive should contain u.genre")
        }
        let wrong = String(repeating: "0", count: 64)
        await #expect { try await downloader.fetch(.ml100k, from: zip, archiveSHA256: wrong) } throws: { error in
            if case let .checksumMismatch(path, expected, _) = error as? DataError { return path.hasSuffix("ml-100k.zip") && expected == wrong }
            return false
        }
        let missing = cache.appendingPathComponent("nowhere.zip")
        await #expect { try await downloader.fetch(.ml1m, from: missing) } throws: { error in
            if case let .downloadFailed(url, _) = error as? DataError { return url == missing.absoluteString }
            return false
        }
        // Not a zip at all.
        let junk = try TestSupport.file("ml-1m.zip", "not a zip")
        await #expect { try await downloader.fetch(.ml1m, from: junk) } throws: { "\($0)".contains("not a readable zip archive") }
        #expect(MovieLensDownloader.Archive.ml1m.url.absoluteString == "https://files.grouplens.org/datasets/movielens/ml-1m.zip")
    }

    @Test func latestSmallArchiveIsCheckedForItsFilesAndReads() async throws {
        let work = try TestSupport.temporaryFolder("latest")
        defer { try? FileManager.default.removeItem(at: work) }
        let folder = work.appendingPathComponent("ml-latest-small")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files = ["ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n",
                     "movies.csv": "movieId,title,genres\n1,Toy Story (1995),Adventure\n3,\"Grumpier Old Men, The (1995)\",Comedy\n",
                     "tags.csv": "userId,movieId,tag,timestamp\n", "links.csv": "movieId,imdbId,tmdbId\n1,0114709,862\n"]
        for (name, text) in files { try Data(text.utf8).write(to: folder.appendingPathComponent(name)) }
        let zip = work.appendingPathComponent("ml-latest-small.zip")
        try FileManager.default.zipItem(at: folder, to: zip)
        let downloader = MovieLensDownloader(cacheDirectory: work.appendingPathComponent("cache"))
        let d = try await downloader.dataset(.mlLatestSmall, from: zip)
        #expect(d.name == "ml-latest-small" && d.eventCount == 2 && d.metadata(ofItem: "3")?.title == "Grumpier Old Men, The (1995)")
        #expect(MovieLensDownloader.Archive.mlLatestSmall.checks.allSatisfy { $0.check == .present })
        #expect(MovieLensDownloader.defaultCacheDirectory(environment: ["STARLING_CACHE": "/c"]).path == "/c/datasets")
    }
}

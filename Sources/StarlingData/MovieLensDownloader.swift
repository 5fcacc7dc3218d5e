import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ZIPFoundation

/// Fetches the official MovieLens archives from GroupLens into a cache folder, unzips them and
/// checks the extracted files, so that a machine with a network can get the datasets the
/// offline copies (``DataRoot``) do not have, such as MovieLens 1M's `ratings.dat`.
///
/// Layout of the cache: `<cache>/<name>.zip` (the archive) and `<cache>/<name>/` (its files,
/// e.g. `<cache>/ml-100k/u.data`), with a `.starling-verified` marker written once every check
/// passed. A later call with the marker and the checked files present is a cache hit and touches
/// neither the network nor the archive.
///
/// Checks per archive (the published archives carry no checksums of their own):
/// - `ml-100k.zip`: SHA-256 of `README`, `u.data`, `u.genre`, `u.info`, `u.item`, `u.occupation`,
///   `u.user` — the values of the offline copy (`ml-100k/README.md`), whose sizes match the
///   official files; the other files of the archive (`u1.base`, …) are not checked.
/// - `ml-1m.zip`: SHA-256 of `README`, `movies.dat`, `users.dat` (from `ml-1m/README.md`), and the
///   git blob id (SHA-1 of `blob <size>\0<bytes>`) of `ratings.dat`, `77a7c4b1…`, the one every
///   public copy of the file has.
/// - `ml-latest-small.zip`: GroupLens updates it in place, so no fixed checksum exists; only the
///   presence of `ratings.csv`, `movies.csv`, `tags.csv` and `links.csv` is checked.
///
/// Pass `archiveSHA256` to ``fetch(_:from:archiveSHA256:)`` to pin the archive itself as well.
public struct MovieLensDownloader: Sendable {
    /// One check of one extracted file.
    public enum FileCheck: Sendable, Equatable {
        /// The SHA-256 of the file's bytes, lowercase hex.
        case sha256(String)
        /// The git blob id: SHA-1 of `blob <size>\0` followed by the bytes, lowercase hex.
        case gitBlobSHA1(String)
        /// The file must exist.
        case present
    }

    /// The archives known to the downloader.
    public enum Archive: String, Sendable, CaseIterable {
        case ml100k = "ml-100k"
        case ml1m = "ml-1m"
        case mlLatestSmall = "ml-latest-small"

        /// The official address.
        public var url: URL { URL(string: "https://files.grouplens.org/datasets/movielens/\(rawValue).zip")! }

        /// The folder at the root of the archive, and the folder name in the cache.
        public var folderName: String { rawValue }

        /// The files checked after extraction, with their checks.
        public var checks: [(file: String, check: FileCheck)] {
            switch self {
            case .ml100k:
                return [
                    ("README", .sha256("b2f69dd0cab50c2b976da7c6113f267169cf0b35ade48de35fe75ed1b81c0f28")),
                    ("u.data", .sha256("06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490")),
                    ("u.genre", .sha256("9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb")),
                    ("u.info", .sha256("5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b")),
                    ("u.item", .sha256("553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701")),
                    ("u.occupation", .sha256("cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d")),
                    ("u.user", .sha256("f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c")),
                ]
            case .ml1m:
                return [
                    ("README", .sha256("2d5ddce86ccbd247207456165827b4b9ddf27282bca93807d4c763e28414f133")),
                    ("movies.dat", .sha256("0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9")),
                    ("users.dat", .sha256("1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3")),
                    ("ratings.dat", .gitBlobSHA1("77a7c4b150f588c23bb9e1f068aa996c0b413695")),
                ]
            case .mlLatestSmall:
                return [("ratings.csv", .present), ("movies.csv", .present), ("tags.csv", .present), ("links.csv", .present)]
            }
        }
    }

    /// Copies the resource at the first URL to the file at the second.
    public typealias Transport = @Sendable (URL, URL) async throws -> Void

    /// Where archives and extracted folders are kept.
    public let cacheDirectory: URL
    let transport: Transport

    /// A downloader caching under `cacheDirectory` (default: ``defaultCacheDirectory(environment:)``).
    /// `transport` fetches a URL to a file; the default copies `file://` URLs and downloads others
    /// with `URLSession`.
    public init(cacheDirectory: URL? = nil, transport: Transport? = nil) {
        self.cacheDirectory = cacheDirectory ?? Self.defaultCacheDirectory()
        self.transport = transport ?? Self.defaultTransport
    }

    /// `$STARLING_CACHE/datasets`, else `$XDG_CACHE_HOME/starling/datasets`, else
    /// `~/.cache/starling/datasets`.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let c = environment["STARLING_CACHE"], !c.isEmpty { return URL(fileURLWithPath: c).appendingPathComponent("datasets") }
        if let x = environment["XDG_CACHE_HOME"], !x.isEmpty {
            return URL(fileURLWithPath: x).appendingPathComponent("starling").appendingPathComponent("datasets")
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache").appendingPathComponent("starling").appendingPathComponent("datasets")
    }

    /// The folder the files of `archive` are extracted to.
    public func folder(for archive: Archive) -> URL { cacheDirectory.appendingPathComponent(archive.folderName, isDirectory: true) }

    /// Whether `archive` is already extracted and verified in the cache.
    public func isCached(_ archive: Archive) -> Bool {
        let folder = folder(for: archive)
        let fm = FileManager.default
        return fm.fileExists(atPath: folder.appendingPathComponent(Self.marker).path)
            && archive.checks.allSatisfy { fm.fileExists(atPath: folder.appendingPathComponent($0.file).path) }
    }

    static let marker = ".starling-verified"

    /// The folder holding `archive`'s files: from the cache when it is there, else fetched from
    /// `url` (default: the official address), unzipped and checked. A failed check removes the
    /// archive and the extracted files, so the next call downloads again.
    public func fetch(_ archive: Archive, from url: URL? = nil, archiveSHA256: String? = nil) async throws(DataError) -> URL {
        let fm = FileManager.default
        let folder = folder(for: archive)
        if isCached(archive) { return folder }
        let source = url ?? archive.url
        do { try fm.createDirectory(at: cacheDirectory, withIntermediateDirectories: true) } catch {
            throw .unreadable(path: cacheDirectory.path, reason: "cannot create the cache folder: \(error.localizedDescription)")
        }
        let zip = cacheDirectory.appendingPathComponent("\(archive.folderName).zip")
        if !fm.fileExists(atPath: zip.path) {
            let partial = cacheDirectory.appendingPathComponent("\(archive.folderName).zip.partial-\(UUID().uuidString)")
            do {
                try await transport(source, partial)
                try fm.moveItem(at: partial, to: zip)
            } catch {
                try? fm.removeItem(at: partial)
                throw .downloadFailed(url: source.absoluteString, reason: "\(error)")
            }
        }
        if let expected = archiveSHA256?.lowercased() {
            let actual = try Self.sha256(of: zip)
            guard actual == expected else {
                try? fm.removeItem(at: zip)
                throw .checksumMismatch(path: zip.path, expected: expected, actual: actual)
            }
        }
        let staging = cacheDirectory.appendingPathComponent(".\(archive.folderName).extracting-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: staging) }
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try fm.unzipItem(at: zip, to: staging)
        } catch {
            try? fm.removeItem(at: zip)
            throw .unreadable(path: zip.path, reason: "not a readable zip archive: \(error)")
        }
        let extracted = staging.appendingPathComponent(archive.folderName)
        guard fm.fileExists(atPath: extracted.path) else {
            try? fm.removeItem(at: zip)
            throw .inconsistent(path: zip.path, reason: "the archive has no top-level folder '\(archive.folderName)/'")
        }
        do throws(DataError) {
            try Self.verify(folder: extracted, checks: archive.checks)
        } catch {
            try? fm.removeItem(at: zip)
            throw error
        }
        do {
            if fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
            try fm.moveItem(at: extracted, to: folder)
            let note = "archive \(archive.folderName) from \(source.absoluteString), checked \(archive.checks.count) files\n"
            try Data(note.utf8).write(to: folder.appendingPathComponent(Self.marker))
        } catch {
            throw .unreadable(path: folder.path, reason: "cannot move the extracted files into the cache: \(error.localizedDescription)")
        }
        return folder
    }

    /// Checks the files in `folder`; the first failure is thrown.
    public static func verify(folder: URL, checks: [(file: String, check: FileCheck)]) throws(DataError) {
        for (file, check) in checks {
            let url = folder.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw .missingFile(path: url.path, hint: "the archive should contain \(file)")
            }
            switch check {
            case .present:
                continue
            case let .sha256(expected):
                let actual = try sha256(of: url)
                guard actual == expected.lowercased() else { throw .checksumMismatch(path: url.path, expected: "sha256 \(expected)", actual: "sha256 \(actual)") }
            case let .gitBlobSHA1(expected):
                let actual = try gitBlobSHA1(of: url)
                guard actual == expected.lowercased() else { throw .checksumMismatch(path: url.path, expected: "git blob \(expected)", actual: "git blob \(actual)") }
            }
        }
    }

    /// The SHA-256 of a file, lowercase hex (read in 1 MiB chunks).
    public static func sha256(of url: URL) throws(DataError) -> String {
        var hasher = SHA256()
        try forEachChunk(of: url) { hasher.update(data: $0) }
        return hex(hasher.finalize())
    }

    /// The git blob id of a file (`git hash-object`), lowercase hex.
    public static func gitBlobSHA1(of url: URL) throws(DataError) -> String {
        let size: Int
        do { size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0 } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        var hasher = Insecure.SHA1()
        hasher.update(data: Data("blob \(size)\u{0}".utf8))
        try forEachChunk(of: url) { hasher.update(data: $0) }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    static func forEachChunk(of url: URL, _ body: (Data) -> Void) throws(DataError) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw FileManager.default.fileExists(atPath: url.path) ? .unreadable(path: url.path, reason: "cannot open") : .missingFile(path: url.path, hint: "")
        }
        defer { try? handle.close() }
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch { throw .unreadable(path: url.path, reason: error.localizedDescription) }
            guard let chunk, !chunk.isEmpty else { return }
            body(chunk)
        }
    }

    /// Copies `file://` URLs; downloads others with `URLSession` (HTTP status 200 required).
    public static let defaultTransport: Transport = { source, destination in
        if source.isFileURL {
            try FileManager.default.copyItem(at: source, to: destination)
            return
        }
        let (temporary, response) = try await URLSession.shared.download(from: source)
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            try? FileManager.default.removeItem(at: temporary)
            throw DataError.downloadFailed(url: source.absoluteString, reason: "HTTP status \(http.statusCode)")
        }
        try FileManager.default.moveItem(at: temporary, to: destination)
    }
}

extension MovieLensDownloader {
    /// Fetches `archive` (see ``fetch(_:from:archiveSHA256:)``) and reads it with its reader.
    public func dataset(_ archive: Archive, from url: URL? = nil, options: ReadOptions = ReadOptions()) async throws(DataError) -> Dataset {
        let folder = try await fetch(archive, from: url)
        switch archive {
        case .ml100k: return try MovieLens100K.load(directory: folder, options: options)
        case .ml1m: return try MovieLens1M.load(directory: folder, options: options)
        case .mlLatestSmall: return try MovieLensLatest.load(directory: folder, options: options, name: "ml-latest-small")
        }
    }
}

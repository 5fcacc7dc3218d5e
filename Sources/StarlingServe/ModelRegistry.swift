import Foundation
import StarlingModels
import StarlingTensor
import Synchronization

/// Errors of the model registry, naming the version or file.
public enum RegistryError: Error, CustomStringConvertible, Equatable {
    case unknownVersion(Int)
    case nothingToRollBackTo
    case badRegistry(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownVersion(v): return "model version \(v) is not in the registry"
        case .nothingToRollBackTo: return "no earlier active version to roll back to"
        case let .badRegistry(path, reason): return "\(path): \(reason)"
        }
    }
}

/// What the registry records about a published model version.
public struct ModelVersionInfo: Codable, Sendable, Equatable {
    public var version: Int
    /// The checkpoint's `model` kind (e.g. `ials`).
    public var model: String
    /// When it was published (Unix seconds).
    public var published: Double
    /// Free-form facts: the data range it was trained on, its offline metrics, …
    public var metadata: [String: String]
}

/// Versioned model files on disk, one of them active, swapped in atomically.
///
/// Layout: `<root>/v<N>/model.safetensors` and `<root>/v<N>/info.json` per version, and
/// `<root>/active.json` with the active version and the history of earlier active versions. Every
/// file is written to a temporary name, synced and renamed, so a crash leaves either the old or
/// the new state. ``promote(_:)`` loads and warms the new model (one scoring call) before swapping
/// the in-memory reference under a lock; a request that already holds the previous model finishes
/// with it, so a swap never fails a request. The newest `keep` versions and every version in the
/// active history are kept; older ones are deleted when a version is published.
public final class ModelRegistry: Sendable {
    public let root: URL
    public let keep: Int
    private struct State {
        var active: Int?
        var history: [Int]
        var model: (any Recommender)?
    }
    private struct ActiveFile: Codable {
        var active: Int?
        var history: [Int]
    }
    private let state: Mutex<State>
    private let writeLock = Mutex<Void>(())

    /// Opens (creating) the registry at `root` and loads its active model, if any.
    public init(root: URL, keep: Int = 5) throws {
        self.root = root
        self.keep = max(1, keep)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var s = State(active: nil, history: [], model: nil)
        let activeURL = root.appendingPathComponent("active.json")
        if FileManager.default.fileExists(atPath: activeURL.path) {
            let file: ActiveFile
            do { file = try JSONDecoder().decode(ActiveFile.self, from: Data(contentsOf: activeURL)) } catch {
                throw RegistryError.badRegistry(path: activeURL.path, reason: "unreadable (\(error))")
            }
            s.active = file.active
            s.history = file.history
            if let v = file.active { s.model = try ModelLoader.load(from: Self.checkpoint(root, v)).model }
        }
        state = Mutex(s)
    }

    static func folder(_ root: URL, _ v: Int) -> URL { root.appendingPathComponent("v\(v)", isDirectory: true) }
    static func checkpoint(_ root: URL, _ v: Int) -> URL { folder(root, v).appendingPathComponent("model.safetensors") }

    /// The active version and its model, as one consistent snapshot.
    public var current: (version: Int, model: any Recommender)? {
        state.withLock { s in s.model.map { (s.active!, $0) } }
    }

    /// Every published version, oldest first.
    public func versions() throws -> [ModelVersionInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return try names.compactMap { name -> ModelVersionInfo? in
            guard name.hasPrefix("v"), let v = Int(name.dropFirst()) else { return nil }
            let url = Self.folder(root, v).appendingPathComponent("info.json")
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }  // half-published: ignored
            do { return try JSONDecoder().decode(ModelVersionInfo.self, from: Data(contentsOf: url)) } catch {
                throw RegistryError.badRegistry(path: url.path, reason: "unreadable (\(error))")
            }
        }.sorted { $0.version < $1.version }
    }

    /// The active version and the earlier active versions, most recent last.
    public var activeVersion: Int? { state.withLock { $0.active } }

    /// The file `name` published with `version` (see `attachments` of ``publish(checkpoint:metadata:attachments:)``).
    public func attachment(_ name: String, version: Int) -> URL {
        Self.folder(root, version).appendingPathComponent(name)
    }

    /// The checkpoint file of `version`.
    public func checkpointURL(version: Int) -> URL { Self.checkpoint(root, version) }

    /// Copies a checkpoint (and `attachments`, files by name, such as the model's item ids) into the
    /// registry as a new version (not active yet); returns its number.
    public func publish(checkpoint: URL, metadata: [String: String] = [:], attachments: [String: Data] = [:]) throws -> Int {
        try writeLock.withLock { _ in
            let kind = try SafeTensorsFile(contentsOf: checkpoint).metadata("model", path: checkpoint.path)
            let existing = try versions()
            let v = (existing.map(\.version).max() ?? 0) + 1
            let folder = Self.folder(root, v)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Self.atomicWrite(try Data(contentsOf: checkpoint), to: Self.checkpoint(root, v))
            for (name, data) in attachments {
                guard !name.contains("/"), name != "info.json", name != "model.safetensors" else {
                    throw RegistryError.badRegistry(path: folder.path, reason: "attachment name '\(name)' is not allowed")
                }
                try Self.atomicWrite(data, to: folder.appendingPathComponent(name))
            }
            let info = ModelVersionInfo(version: v, model: kind, published: Date().timeIntervalSince1970, metadata: metadata)
            // info.json last: a version without it was never published.
            try Self.atomicWrite(try JSONEncoder().encode(info), to: folder.appendingPathComponent("info.json"))
            try prune(existing.map(\.version) + [v])
            return v
        }
    }

    /// Loads, warms and makes `version` active.
    public func promote(_ version: Int) throws {
        try writeLock.withLock { _ in
            let url = Self.checkpoint(root, version)
            guard FileManager.default.fileExists(atPath: url.path) else { throw RegistryError.unknownVersion(version) }
            let model = try ModelLoader.load(from: url).model
            _ = model.scoreAllItems(users: [0])  // warm-up: first touch of every page before traffic sees it
            let (previous, history) = state.withLock { ($0.active, $0.history) }
            var newHistory = history
            if let previous, previous != version { newHistory.append(previous) }
            try Self.atomicWrite(try JSONEncoder().encode(ActiveFile(active: version, history: newHistory)),
                                 to: root.appendingPathComponent("active.json"))
            state.withLock { s in
                s.active = version
                s.history = newHistory
                s.model = model
            }
        }
    }

    /// Makes the previously active version active again; returns it.
    @discardableResult
    public func rollBack() throws -> Int {
        let history = state.withLock { $0.history }
        guard let previous = history.last else { throw RegistryError.nothingToRollBackTo }
        try promote(previous)
        // The rolled-back-from version must not become the next rollback target.
        try writeLock.withLock { _ in
            let s = state.withLock { s -> ActiveFile in
                s.history = Array(history.dropLast())
                return ActiveFile(active: s.active, history: s.history)
            }
            try Self.atomicWrite(try JSONEncoder().encode(s), to: root.appendingPathComponent("active.json"))
        }
        return previous
    }

    /// Deletes versions beyond the newest `keep`, except active and historical ones.
    private func prune(_ all: [Int]) throws {
        let protected = state.withLock { Set($0.history + ($0.active.map { [$0] } ?? [])) }
        for v in all.sorted().dropLast(keep) where !protected.contains(v) {
            try? FileManager.default.removeItem(at: Self.folder(root, v))
        }
    }

    /// Writes `data` to a temporary file beside `url`, syncs it and renames it over `url`.
    static func atomicWrite(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw RegistryError.badRegistry(path: tmp.path, reason: "cannot create")
        }
        let handle = try FileHandle(forWritingTo: tmp)
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        guard rename(tmp.path, url.path) == 0 else {
            throw RegistryError.badRegistry(path: url.path, reason: "rename failed (errno \(errno))")
        }
    }
}

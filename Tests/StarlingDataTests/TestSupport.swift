import Foundation
import StarlingData

/// Shared helpers for the data tests.
enum TestSupport {
    /// The offline dataset folder; a missing folder fails the test (it does not skip it).
    static func root() throws -> URL { try DataRoot.resolve() }

    /// A new empty temporary folder.
    static func temporaryFolder(_ prefix: String = "starling-data") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `files` (name → contents) into a new temporary folder.
    static func folder(_ files: [String: String]) throws -> URL {
        let dir = try temporaryFolder()
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    /// Writes `text` to a new temporary file named `name`.
    static func file(_ name: String, _ text: String) throws -> URL {
        let url = try temporaryFolder().appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The events of a dataset as `(user id, item id, type, value, timestamp)` tuples in log order.
    static func rows(_ d: Dataset) -> [String] {
        (0..<d.eventCount).map { k in
            let e = d.events[k]
            return "\(d.users[e.user]) \(d.items[e.item]) \(e.type) \(e.value)" + (e.timestamp.map { " \($0)" } ?? "")
        }
    }
}

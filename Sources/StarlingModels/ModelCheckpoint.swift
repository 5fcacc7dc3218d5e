import Foundation
import StarlingTensor

/// The metadata every model checkpoint carries, and opening a checkpoint of an expected kind.
///
/// A checkpoint's metadata has `model` (the kind, e.g. `ials`), `configuration` (the model's
/// hyper-parameters as JSON with sorted keys) and `format_version`; ``ModelLoader`` dispatches on
/// `model`.
enum ModelCheckpoint {
    /// `model`, `configuration` and `format_version` for a checkpoint of `kind`.
    static func metadata(kind: String, configuration: some Encodable) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(configuration), as: UTF8.self)
        return ["model": kind, "configuration": json, "format_version": "1"]
    }

    /// Reads a checkpoint, checks that it holds a `kind` model and decodes its configuration.
    static func open<C: Decodable>(_ url: URL, kind: String, configuration: C.Type) throws -> (SafeTensorsFile, C) {
        let file = try SafeTensorsFile(contentsOf: url)
        let found = try file.metadata("model", path: url.path)
        guard found == kind else { throw ModelError.wrongModel(path: url.path, expected: kind, found: found) }
        do {
            return (file, try JSONDecoder().decode(C.self, from: Data(try file.metadata("configuration", path: url.path).utf8)))
        } catch let error as CheckpointError { throw error } catch {
            throw ModelError.badConfiguration(path: url.path, reason: "\(error)")
        }
    }
}

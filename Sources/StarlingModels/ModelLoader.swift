import Foundation
import StarlingTensor

/// Loads any saved recommender by the `model` name in its checkpoint's metadata.
public enum ModelLoader {
    /// The model names this loader knows.
    public static let knownModels = ["popularity", "itemknn", "ease", IALS.checkpointKind, BPRMF.checkpointKind, Item2Vec.checkpointKind]

    /// Loads a checkpoint written by a ``Recommender``'s `save(to:)`.
    public static func load(from url: URL) throws -> (model: any Recommender, metadata: [String: String]) {
        let kind = try SafeTensorsFile(contentsOf: url).metadata("model", path: url.path)
        switch kind {
        case "popularity": let r = try Popularity.load(from: url); return (r.model, r.metadata)
        case "itemknn": let r = try ItemKNN.load(from: url); return (r.model, r.metadata)
        case "ease": let r = try EASE.load(from: url); return (r.model, r.metadata)
        case IALS.checkpointKind: let r = try IALS.load(from: url); return (r.model, r.metadata)
        case BPRMF.checkpointKind: let r = try BPRMF.load(from: url); return (r.model, r.metadata)
        case Item2Vec.checkpointKind: let r = try Item2Vec.load(from: url); return (r.model, r.metadata)
        default:
            throw ModelError.wrongModel(path: url.path, expected: knownModels.joined(separator: ", "), found: kind)
        }
    }
}

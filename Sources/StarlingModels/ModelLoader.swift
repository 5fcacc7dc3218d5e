import Foundation
import StarlingTensor

/// Loads any saved recommender by the `model` name in its checkpoint's metadata.
public enum ModelLoader {
    /// The model names this loader knows.
    public static let knownModels = ["popularity", "itemknn", "ease", IALS.checkpointKind, BPRMF.checkpointKind, Item2Vec.checkpointKind,
                                             SASRec.checkpointKind, LightGCN.checkpointKind]

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
        case SASRec.checkpointKind: let r = try SASRec.load(from: url); return (r.model, r.metadata)
        case LightGCN.checkpointKind: let r = try LightGCN.load(from: url); return (r.model, r.metadata)
        default:
            throw ModelError.wrongModel(path: url.path, expected: knownModels.joined(separator: ", "), found: kind)
        }
    }

    /// The click-model kinds ``loadClickModel(from:)`` knows.
    public static let knownClickModels = [DeepFM.checkpointKind, WideAndDeep.checkpointKind, SharedBottom.checkpointKind,
                                          MMoE.checkpointKind, ESMM.checkpointKind]

    /// Whether the checkpoint holds a click model (``ClickModel``) rather than a recommender.
    public static func isClickModel(_ url: URL) throws -> Bool {
        knownClickModels.contains(try SafeTensorsFile(contentsOf: url).metadata("model", path: url.path))
    }

    /// Loads a checkpoint written by a ``ClickModel``'s `save(to:)`.
    public static func loadClickModel(from url: URL) throws -> any ClickModel {
        let kind = try SafeTensorsFile(contentsOf: url).metadata("model", path: url.path)
        switch kind {
        case DeepFM.checkpointKind: return try DeepFM.load(from: url).model
        case WideAndDeep.checkpointKind: return try WideAndDeep.load(from: url).model
        case SharedBottom.checkpointKind: return try SharedBottom.load(from: url).model
        case MMoE.checkpointKind: return try MMoE.load(from: url).model
        case ESMM.checkpointKind: return try ESMM.load(from: url).model
        default:
            throw ModelError.wrongModel(path: url.path, expected: knownClickModels.joined(separator: ", "), found: kind)
        }
    }
}

import Foundation
import StarlingTensor

/// A model that scores (user, item) pairs: higher means more relevant. Evaluation protocols and
/// the serving pipeline rank candidates with it.
public protocol PairScoring: AnyObject, Sendable {
    /// The model's name in reports, e.g. `NeuMF`.
    var modelName: String { get }
    /// The number of users and items the model knows.
    var userCount: Int { get }
    var itemCount: Int { get }
    /// One score per `(users[k], items[k])` pair. Safe to call from several threads at once.
    func scores(users: [Int32], items: [Int32]) -> [Float]
}

/// A model that can be written to and read from a safetensors checkpoint.
public protocol Checkpointable: Module {
    /// The checkpoint: parameter tensors plus metadata that identifies the model and its configuration.
    func checkpoint() throws -> SafeTensorsFile
}

/// A problem with a model or its checkpoint.
public enum ModelError: Error, CustomStringConvertible {
    case wrongModel(path: String, expected: String, found: String)
    case badConfiguration(path: String, reason: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .wrongModel(path, expected, found): return "\(path): checkpoint holds a \(found) model, expected \(expected)"
        case let .badConfiguration(path, reason): return "\(path): model configuration is invalid: \(reason)"
        case let .invalidArgument(reason): return reason
        }
    }
}

extension Checkpointable {
    /// Writes the checkpoint atomically to `url`.
    public func save(to url: URL) throws {
        try checkpoint().write(to: url)
    }
}

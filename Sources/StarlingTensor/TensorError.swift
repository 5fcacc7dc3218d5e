/// Errors raised when a tensor is built from, or loaded into, data whose shape or content is wrong.
///
/// Shape mismatches between operands of an operation are programming errors and stop the program
/// with a message naming the operation and both shapes (as Swift does for an array index out of
/// range). Data that comes from outside — files, requests, user arrays — is checked with these
/// throwing errors instead.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// The number of scalars does not match the product of the shape's dimensions.
    case scalarCountMismatch(shape: [Int], expected: Int, actual: Int)
    /// A shape has a negative dimension.
    case invalidShape([Int])
    /// A named tensor was expected but is missing.
    case missingTensor(name: String)
    /// A tensor has a different shape than the one expected for it.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case let .scalarCountMismatch(shape, expected, actual):
            return "shape \(shape) needs \(expected) scalars, got \(actual)"
        case let .invalidShape(shape):
            return "invalid shape \(shape): dimensions must be non-negative"
        case let .missingTensor(name):
            return "tensor '\(name)' is missing"
        case let .shapeMismatch(name, expected, actual):
            return "tensor '\(name)' has shape \(actual), expected \(expected)"
        }
    }
}

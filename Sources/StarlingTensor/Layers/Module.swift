/// Something that owns named parameters: a layer or a whole model.
public protocol Module: AnyObject {
    /// Every parameter, in a stable order; names are unique within the module.
    var parameters: [Parameter] { get }
}

extension Module {
    /// The parameter values by name, for checkpoints.
    public func stateDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) })
    }

    /// Loads parameter values by name. Every parameter must be present with its exact shape;
    /// nothing is changed unless all of them are.
    public func loadStateDictionary(_ tensors: [String: Tensor]) throws(TensorError) {
        for p in parameters {
            guard let t = tensors[p.name] else { throw .missingTensor(name: p.name) }
            guard t.shape == p.shape else { throw .shapeMismatch(name: p.name, expected: p.shape, actual: t.shape) }
        }
        for p in parameters { p.value = tensors[p.name]! }
    }

    /// The total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// How a layer's weights are initialised.
public enum WeightInitialization: Sendable {
    case xavierUniform, xavierNormal, heUniform, heNormal, lecunUniform
    case normal(standardDeviation: Float)
    case uniform(bound: Float)
    case zeros

    /// A tensor of `shape` initialised this way.
    public func tensor(shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        switch self {
        case .xavierUniform: return .xavierUniform(shape: shape, using: &rng)
        case .xavierNormal: return .xavierNormal(shape: shape, using: &rng)
        case .heUniform: return .heUniform(shape: shape, using: &rng)
        case .heNormal: return .heNormal(shape: shape, using: &rng)
        case .lecunUniform: return .lecunUniform(shape: shape, using: &rng)
        case let .normal(sd): return .normal(shape: shape, standardDeviation: sd, using: &rng)
        case let .uniform(bound): return .uniform(shape: shape, low: -bound, high: bound, using: &rng)
        case .zeros: return Tensor(shape: shape)
        }
    }
}

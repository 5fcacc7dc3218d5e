/// Layer normalisation over the last dimension with a learned scale and shift.
public final class LayerNorm: Module {
    public let gamma: Parameter
    public let beta: Parameter
    public let epsilon: Float

    public init(dimension: Int, name: String, epsilon: Float = 1e-5) {
        gamma = Parameter(name: "\(name).weight", value: Tensor(shape: [dimension], repeating: 1))
        beta = Parameter(name: "\(name).bias", value: Tensor(shape: [dimension]))
        self.epsilon = epsilon
    }

    public var parameters: [Parameter] { [gamma, beta] }

    public func callAsFunction(_ x: Variable) -> Variable {
        x.layerNorm(gamma: x.tape.parameter(gamma), beta: x.tape.parameter(beta), epsilon: epsilon)
    }
}

/// A fully connected layer `y = x·Wᵀ + b` with `W` of shape `[outputs, inputs]` (PyTorch's layout,
/// so checkpoints map one-to-one onto `torch.nn.Linear`).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    /// - Parameters:
    ///   - name: prefix of the parameter names (`name.weight`, `name.bias`).
    ///   - initialization: how `W` is drawn; the bias starts at zero.
    public init(inputs: Int, outputs: Int, bias: Bool = true, name: String,
                initialization: WeightInitialization = .xavierUniform, rng: inout RandomGenerator) {
        precondition(inputs > 0 && outputs > 0, "Linear \(name): sizes must be positive, got \(inputs)→\(outputs)")
        weight = Parameter(name: "\(name).weight", value: initialization.tensor(shape: [outputs, inputs], using: &rng))
        self.bias = bias ? Parameter(name: "\(name).bias", value: Tensor(shape: [outputs])) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var inputs: Int { weight.shape[1] }
    public var outputs: Int { weight.shape[0] }

    /// Applies the layer to `x` (`[..., inputs]` → `[..., outputs]`).
    public func callAsFunction(_ x: Variable) -> Variable {
        x.linear(weight: x.tape.parameter(weight), bias: bias.map { x.tape.parameter($0) })
    }
}

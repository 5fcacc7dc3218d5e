/// A stack of fully connected layers with ReLU (and optional dropout) between them, ending in a
/// linear output layer: `inputs → hidden[0] → … → hidden[n-1] → outputs`.
public final class MultilayerPerceptron: Module {
    /// The hidden layers, then the output layer.
    public let layers: [Linear]
    /// Dropout after each hidden layer while training.
    public let dropout: Float

    /// - Parameters:
    ///   - name: prefix of the layers' names (`name.0`, `name.1`, …).
    public init(inputs: Int, hidden: [Int], outputs: Int, dropout: Float = 0, name: String, rng: inout RandomGenerator) {
        precondition(dropout >= 0 && dropout < 1, "MultilayerPerceptron \(name): dropout must be in [0, 1)")
        let widths = [inputs] + hidden + [outputs]
        layers = (0..<(widths.count - 1)).map { k in
            Linear(inputs: widths[k], outputs: widths[k + 1], name: "\(name).\(k)",
                   initialization: k == widths.count - 2 ? .lecunUniform : .heUniform, rng: &rng)
        }
        self.dropout = dropout
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Applies the network to `x` (`[batch, inputs]` → `[batch, outputs]`).
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for (k, layer) in layers.enumerated() {
            h = layer(h)
            if k < layers.count - 1 {
                h = h.relu()
                if dropout > 0 { h = h.dropout(rate: dropout) }
            }
        }
        return h
    }
}

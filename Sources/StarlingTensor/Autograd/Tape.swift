/// Identifies a value recorded on a ``Tape``.
public struct VariableID: Hashable, Sendable {
    /// The position of the value on its tape (creation order, which is a topological order).
    public let index: Int
}

/// How an operation passes the gradient of its output back to its inputs.
///
/// It receives the gradient with respect to the operation's output and adds the gradients with
/// respect to its inputs into the sink. Closures must capture input *ids*, never ``Variable``s,
/// so that the tape does not keep itself alive.
public typealias Backward = (_ upstream: Tensor, _ sink: inout GradientSink) -> Void

/// The gradients being accumulated during a backward pass.
public struct GradientSink {
    @usableFromInline var grads: [Tensor?]
    @usableFromInline let needsGrad: [Bool]
    var sparseParts: [ObjectIdentifier: [SparseRows]] = [:]

    /// Whether the value needs a gradient (it is, or depends on, something being differentiated).
    @inlinable public func needs(_ id: VariableID) -> Bool { needsGrad[id.index] }

    /// Adds `gradient` to the gradient of `id` (ignored when `id` needs none).
    @inlinable
    public mutating func accumulate(_ id: VariableID, _ gradient: Tensor) {
        guard needsGrad[id.index] else { return }
        if grads[id.index] == nil {
            grads[id.index] = gradient
        } else {
            precondition(grads[id.index]!.count == gradient.count,
                         "backward: gradient of shape \(gradient.shape) for a value of shape \(grads[id.index]!.shape)")
            grads[id.index]!.add(gradient.reshaped(grads[id.index]!.shape))
        }
    }

    /// Adds a row-sparse gradient for an embedding table.
    public mutating func accumulateSparse(_ parameter: Parameter, _ rows: SparseRows) {
        sparseParts[parameter.key, default: []].append(rows)
    }
}

/// A record of the operations applied to ``Variable``s, for reverse-mode differentiation.
///
/// Build a tape per forward pass, bind parameters with ``parameter(_:)``, compute a scalar loss,
/// then call ``gradients(of:)``. A tape is used by one thread at a time; data-parallel training
/// gives each worker its own.
///
/// ```swift
/// let tape = Tape()
/// let w = tape.parameter(weight)
/// let loss = (tape.constant(x).matmul(w) - tape.constant(y)).square().mean()
/// let grads = tape.gradients(of: loss)
/// ```
public final class Tape {
    /// Training mode: dropout is active. Evaluation mode: dropout is the identity.
    public var isTraining: Bool
    /// The random stream used by stochastic operations such as dropout.
    public var rng: RandomGenerator
    /// Whether backward closures are kept. An inference tape (`false`) only computes values.
    public let isRecording: Bool

    @usableFromInline var values: [Tensor] = []
    @usableFromInline var needsGrad: [Bool] = []
    @usableFromInline var backwards: [Backward?] = []
    private var parameterSlots: [ObjectIdentifier: Int] = [:]
    private var boundParameters: [(slot: Int, parameter: Parameter)] = []

    /// A new tape.
    /// - Parameters:
    ///   - training: whether dropout and other training-only behaviour is active.
    ///   - seed: the seed of the tape's random stream.
    ///   - recording: `false` for inference (no gradients can be taken).
    public init(training: Bool = true, seed: UInt64 = 0, recording: Bool = true) {
        self.isTraining = training
        self.rng = RandomGenerator(seed: seed)
        self.isRecording = recording
        values.reserveCapacity(64); needsGrad.reserveCapacity(64); backwards.reserveCapacity(64)
    }

    /// The number of values recorded so far.
    public var count: Int { values.count }

    /// A value that needs no gradient (inputs, targets, masks).
    public func constant(_ value: Tensor) -> Variable {
        append(value, needsGrad: false, backward: nil)
    }

    /// A value whose gradient can be asked for with ``gradients(of:withRespectTo:)`` (tests, saliency).
    public func input(_ value: Tensor) -> Variable {
        append(value, needsGrad: isRecording, backward: nil)
    }

    /// The parameter's current value, bound so that ``gradients(of:)`` reports its gradient.
    /// Binding the same parameter twice returns the same variable.
    public func parameter(_ parameter: Parameter) -> Variable {
        if let slot = parameterSlots[parameter.key] { return Variable(tape: self, id: VariableID(index: slot)) }
        let v = append(parameter.value, needsGrad: isRecording, backward: nil)
        parameterSlots[parameter.key] = v.id.index
        boundParameters.append((v.id.index, parameter))
        return v
    }

    /// Records the result of an operation on `inputs`. The backward closure is kept only when the
    /// tape records and some input needs a gradient.
    @inlinable
    public func record(_ value: Tensor, inputs: [Variable], backward: @escaping Backward) -> Variable {
        var needs = false
        if isRecording { for v in inputs where needsGrad[v.id.index] { needs = true; break } }
        return append(value, needsGrad: needs, backward: needs ? backward : nil)
    }

    /// Records the result of an operation whose gradient flows to a parameter row-sparsely
    /// (an embedding table), not to another recorded value.
    public func recordSparse(_ value: Tensor, backward: @escaping Backward) -> Variable {
        append(value, needsGrad: isRecording, backward: isRecording ? backward : nil)
    }

    @usableFromInline
    func append(_ value: Tensor, needsGrad needs: Bool, backward: Backward?) -> Variable {
        values.append(value)
        needsGrad.append(needs)
        backwards.append(backward)
        return Variable(tape: self, id: VariableID(index: values.count - 1))
    }

    /// Runs the backward pass from `output` and returns the raw sink.
    private func backpropagate(from output: Variable, seed: Tensor?) -> GradientSink {
        precondition(output.tape === self, "gradients(of:): the variable belongs to another tape")
        precondition(isRecording, "gradients(of:): this tape was created with recording: false")
        let start = output.id.index
        let upstream: Tensor
        if let seed {
            precondition(seed.shape == values[start].shape,
                         "gradients(of:): seed of shape \(seed.shape) for an output of shape \(values[start].shape)")
            upstream = seed
        } else {
            precondition(values[start].count == 1,
                         "gradients(of:): the output must be a scalar (shape \(values[start].shape)); pass a seed otherwise")
            upstream = Tensor(shape: values[start].shape, repeating: 1)
        }
        var sink = GradientSink(grads: [Tensor?](repeating: nil, count: values.count), needsGrad: needsGrad)
        guard needsGrad[start] else { return sink }
        sink.grads[start] = upstream
        for i in stride(from: start, through: 0, by: -1) {
            guard let backward = backwards[i], let g = sink.grads[i] else { continue }
            sink.grads[i] = nil  // intermediate gradients are not needed once passed on
            backward(g, &sink)
        }
        return sink
    }

    /// The gradients of the scalar `loss` with respect to every bound parameter (dense) and every
    /// embedding table it looked up (row-sparse).
    public func gradients(of loss: Variable, seed: Tensor? = nil) -> Gradients {
        let sink = backpropagate(from: loss, seed: seed)
        var result = Gradients()
        for (slot, parameter) in boundParameters {
            if let g = sink.grads[slot] { result.dense[parameter.key] = g }
        }
        for (key, parts) in sink.sparseParts {
            let merged: SparseRows
            if parts.count == 1 {
                merged = parts[0]
            } else {
                merged = SparseRows(indices: parts.flatMap(\.indices),
                                    values: Tensor.concatenate(parts.map(\.values), alongAxis: 0),
                                    tableRows: parts[0].tableRows)
            }
            if result.dense[key] != nil {
                result.dense[key]!.add(merged.densified())  // the table was also used densely
            } else {
                result.sparse[key] = merged
            }
        }
        return result
    }

    /// The gradients of `output` with respect to the given variables (nil where there is none).
    public func gradients(of output: Variable, withRespectTo variables: [Variable], seed: Tensor? = nil) -> [Tensor?] {
        let sink = backpropagate(from: output, seed: seed)
        return variables.map { sink.grads[$0.id.index] }
    }
}

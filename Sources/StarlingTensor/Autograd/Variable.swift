/// A tensor recorded on a ``Tape``: the operand of differentiable operations.
///
/// Operations on variables compute their value immediately (eager execution) and record how to
/// pass gradients back. Variables from different tapes cannot be mixed.
public struct Variable {
    /// The tape that recorded this value.
    public let tape: Tape
    /// The position of this value on its tape.
    public let id: VariableID

    @inlinable init(tape: Tape, id: VariableID) {
        self.tape = tape
        self.id = id
    }

    /// The computed value.
    @inlinable public var value: Tensor { tape.values[id.index] }
    /// The shape of the value.
    @inlinable public var shape: [Int] { tape.values[id.index].shape }
    /// The rank of the value.
    @inlinable public var rank: Int { tape.values[id.index].rank }

    /// Records an operation with this variable as the only input.
    @inlinable
    func unary(_ value: Tensor, _ backward: @escaping Backward) -> Variable {
        tape.record(value, inputs: [self], backward: backward)
    }

    /// A tensor wrapped as a constant on this variable's tape.
    @inlinable
    func lift(_ t: Tensor) -> Variable { tape.constant(t) }

    static func checkSameTape(_ a: Variable, _ b: Variable, _ op: String) {
        precondition(a.tape === b.tape, "\(op): operands were recorded on different tapes")
    }
}

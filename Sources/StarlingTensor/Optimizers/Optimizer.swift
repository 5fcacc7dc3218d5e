/// Updates parameters from their gradients.
///
/// Dense gradients update the whole parameter. Row-sparse gradients (embedding tables) update only
/// the rows the batch touched, and only those rows' optimizer state ("lazy" updates), so a step
/// costs time proportional to the batch, not to the table.
public protocol Optimizer: AnyObject {
    /// The step size used by the next ``step(_:gradients:)``; a schedule may change it between steps.
    var learningRate: Float { get set }

    /// Applies one update to each parameter that has a gradient in `gradients`.
    func step(_ parameters: [Parameter], gradients: Gradients)
}

/// Per-parameter state tensors with the parameter's shape, created on first use.
struct OptimizerSlots {
    private var slots: [ObjectIdentifier: [Tensor]] = [:]
    private var steps: [ObjectIdentifier: Int] = [:]

    /// Ensures `count` zero tensors exist for `parameter` and increments its step counter.
    mutating func prepare(_ parameter: Parameter, count: Int) -> Int {
        if slots[parameter.key] == nil {
            slots[parameter.key] = (0..<count).map { _ in Tensor(shape: parameter.shape) }
        }
        steps[parameter.key, default: 0] += 1
        return steps[parameter.key]!
    }

    /// Writable pointers to the parameter's state tensors.
    mutating func pointers(_ parameter: Parameter) -> [UnsafeMutablePointer<Float>] {
        var result: [UnsafeMutablePointer<Float>] = []
        for i in slots[parameter.key]!.indices { result.append(slots[parameter.key]![i].writePointer()) }
        return result
    }

    /// The number of steps taken for the parameter.
    func stepCount(_ parameter: Parameter) -> Int { steps[parameter.key] ?? 0 }
}

extension Optimizer {
    /// Runs `update(value, gradient, offset, count)` over the parameter's whole buffer (dense
    /// gradient) or over each touched row (sparse gradient, coalesced first). `offset` is the
    /// element offset into the parameter and its state tensors.
    func forEachSegment(
        _ parameter: Parameter, _ gradients: Gradients,
        _ update: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int) -> Void
    ) {
        let p = parameter.value.count > 0 ? parameter.value.writePointer() : nil
        guard let p else { return }
        if let g = gradients.dense[parameter.key] {
            precondition(g.count == parameter.value.count,
                         "\(Self.self): gradient of shape \(g.shape) for parameter \(parameter.name) of shape \(parameter.shape)")
            update(p, g.readPointer, 0, g.count)
        } else if let sparse = gradients.sparse[parameter.key] {
            let rows = sparse.isCoalesced ? sparse : sparse.coalesced()
            let w = rows.width
            precondition(w == parameter.shape.last && rows.tableRows == parameter.shape.first,
                         "\(Self.self): sparse gradient [\(rows.tableRows), \(w)] for parameter \(parameter.name) of shape \(parameter.shape)")
            withExtendedLifetime(rows) {
                let gv = rows.values.readPointer
                for (k, r) in rows.indices.enumerated() {
                    update(p, gv + k * w, Int(r) * w, w)
                }
            }
        }
    }
}

extension Parameter {
    /// Whether `gradients` holds a gradient for this parameter.
    func hasGradient(in gradients: Gradients) -> Bool {
        gradients.dense[key] != nil || gradients.sparse[key] != nil
    }
}

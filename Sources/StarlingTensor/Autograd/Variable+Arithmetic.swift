import Foundation

extension Variable {
    /// Element-wise sum with broadcasting.
    public static func + (a: Variable, b: Variable) -> Variable {
        checkSameTape(a, b, "add")
        let (sa, sb) = (a.shape, b.shape)
        let (ia, ib) = (a.id, b.id)
        return a.tape.record(a.value + b.value, inputs: [a, b]) { g, sink in
            if sink.needs(ia) { sink.accumulate(ia, g.sum(toShape: sa)) }
            if sink.needs(ib) { sink.accumulate(ib, g.sum(toShape: sb)) }
        }
    }

    /// Element-wise difference with broadcasting.
    public static func - (a: Variable, b: Variable) -> Variable {
        checkSameTape(a, b, "sub")
        let (sa, sb) = (a.shape, b.shape)
        let (ia, ib) = (a.id, b.id)
        return a.tape.record(a.value - b.value, inputs: [a, b]) { g, sink in
            if sink.needs(ia) { sink.accumulate(ia, g.sum(toShape: sa)) }
            if sink.needs(ib) { sink.accumulate(ib, -g.sum(toShape: sb)) }
        }
    }

    /// Element-wise product with broadcasting.
    public static func * (a: Variable, b: Variable) -> Variable {
        checkSameTape(a, b, "mul")
        let (va, vb) = (a.value, b.value)
        let (ia, ib) = (a.id, b.id)
        return a.tape.record(va * vb, inputs: [a, b]) { g, sink in
            if sink.needs(ia) { sink.accumulate(ia, (g * vb).sum(toShape: va.shape)) }
            if sink.needs(ib) { sink.accumulate(ib, (g * va).sum(toShape: vb.shape)) }
        }
    }

    /// Element-wise quotient with broadcasting.
    public static func / (a: Variable, b: Variable) -> Variable {
        checkSameTape(a, b, "div")
        let (va, vb) = (a.value, b.value)
        let out = va / vb
        let (ia, ib) = (a.id, b.id)
        return a.tape.record(out, inputs: [a, b]) { g, sink in
            if sink.needs(ia) { sink.accumulate(ia, (g / vb).sum(toShape: va.shape)) }
            if sink.needs(ib) { sink.accumulate(ib, (-(g * out) / vb).sum(toShape: vb.shape)) }
        }
    }

    /// Adds a constant tensor (broadcast).
    public static func + (a: Variable, b: Tensor) -> Variable { a + a.lift(b) }
    /// Subtracts a constant tensor (broadcast).
    public static func - (a: Variable, b: Tensor) -> Variable { a - a.lift(b) }
    /// Multiplies by a constant tensor (broadcast).
    public static func * (a: Variable, b: Tensor) -> Variable { a * a.lift(b) }
    /// Divides by a constant tensor (broadcast).
    public static func / (a: Variable, b: Tensor) -> Variable { a / a.lift(b) }

    /// Multiplies every element by a scalar.
    public static func * (a: Variable, s: Float) -> Variable {
        let ia = a.id
        return a.unary(a.value * s) { g, sink in sink.accumulate(ia, g * s) }
    }

    /// Multiplies every element by a scalar.
    public static func * (s: Float, a: Variable) -> Variable { a * s }

    /// Adds a scalar to every element.
    public static func + (a: Variable, s: Float) -> Variable {
        let ia = a.id
        return a.unary(a.value + s) { g, sink in sink.accumulate(ia, g) }
    }

    /// Subtracts a scalar from every element.
    public static func - (a: Variable, s: Float) -> Variable { a + (-s) }

    /// Negates every element.
    public static prefix func - (a: Variable) -> Variable { a * -1 }

    /// `e^x` element-wise.
    public func exp() -> Variable {
        let out = value.map(Elementwise.Exp())
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, g * out) }
    }

    /// The natural logarithm element-wise.
    public func log() -> Variable {
        let x = value
        let i = id
        let out = x.mapScalars { Foundation.log($0) }
        return unary(out) { g, sink in sink.accumulate(i, g / x) }
    }

    /// `x²` element-wise.
    public func square() -> Variable {
        let x = value
        let i = id
        return unary(x * x) { g, sink in sink.accumulate(i, g * x * 2) }
    }
}

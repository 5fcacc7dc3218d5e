/// A seeded, deterministic pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same sequence on every machine, which is what makes training runs
/// reproducible. It is a value type: copy it to fork a stream, or use ``split()`` for an
/// independent one (for example one per worker thread).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A new generator seeded from this one's stream; the two sequences do not overlap in practice.
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    @inlinable
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform integer in `0..<bound` (Lemire's nearly-divisionless method, unbiased).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "RandomGenerator.nextInt: bound must be positive, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded so the stream stays simple).
    @inlinable
    public mutating func nextNormal() -> Float {
        var u1 = nextDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextDouble() }
        let u2 = nextDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Shuffles `array` in place (Fisher–Yates) deterministically.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }
}

import Foundation

@usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }

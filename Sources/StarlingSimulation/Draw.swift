/// Counter-based random numbers: a uniform number that is a pure function of its keys (seed,
/// round, user, item, purpose), by chaining SplitMix64's finaliser.
///
/// The two arms of a simulation see different recommendation lists, so a shared sequential
/// generator would fall out of step between them after the first difference. Keyed draws keep
/// them coupled instead ("common random numbers"): a user shown the same item in the same round
/// under both arms makes the same examine/click/purchase decision, so the difference between the
/// arms' click-through rates comes from what they recommend, not from the dice.
public enum Draw {
    /// Purposes, so that draws for different decisions on the same keys are independent.
    public enum Purpose: UInt64, Sendable {
        case examine = 1, click, purchase, visitors, browse, arrivals, drift, trend, fashion, world
    }

    @inline(__always)
    static func finalise(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64 random bits determined by `purpose` and `keys`.
    public static func bits(_ purpose: Purpose, _ keys: UInt64...) -> UInt64 {
        var h = finalise(purpose.rawValue)
        for k in keys { h = finalise(h ^ k) }
        return h
    }

    /// A uniform number in [0, 1) determined by `purpose` and `keys` (53 random bits).
    public static func uniform(_ purpose: Purpose, _ keys: UInt64...) -> Double {
        var h = finalise(purpose.rawValue)
        for k in keys { h = finalise(h ^ k) }
        return Double(h >> 11) * 0x1p-53
    }
}

/// Stable hashes for the hashing trick: the same value gets the same bucket in every process,
/// on every machine and in every version (unlike Swift's seeded `Hasher`).
public enum FeatureHash {
    /// 64-bit FNV-1a of the string's UTF-8 bytes.
    @inlinable
    public static func fnv1a(_ value: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in value.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }

    /// Mixes `value` into `seed` (splitmix64 finaliser), for combining encoded indices in crosses.
    @inlinable
    public static func combine(_ seed: UInt64, _ value: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &+ value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The bucket `1...buckets` of a hash (0 is kept for missing values).
    @inlinable
    public static func bucket(_ hash: UInt64, buckets: Int) -> Int32 {
        Int32(truncatingIfNeeded: hash % UInt64(buckets)) + 1
    }
}

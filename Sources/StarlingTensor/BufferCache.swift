import Synchronization

/// Keeps freed large tensor buffers for reuse.
///
/// Buffers above glibc's mmap threshold (at most 32 MB) are mapped fresh on every allocation and
/// every page faults in zeroed on first touch; a training loop that allocates the same large
/// activation or gradient each step pays that again and again. Freed buffers of at least
/// ``minimumBytes`` are kept in exact-size free lists, up to ``capacityBytes`` in all, and handed
/// out again for an allocation of the same size.
public enum BufferCache {
    /// Buffers smaller than this go straight to malloc, which already reuses them.
    public static let minimumBytes = 1 << 20
    /// The most memory the cache holds on to.
    public static let capacityBytes = 512 << 20

    struct State: ~Copyable {
        /// Free buffers by size, as addresses (plain integers cross the lock without isolation issues).
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
        var hits = 0
        var misses = 0
    }

    static let state = Mutex(State())

    /// A 64-byte aligned buffer of `bytes` bytes, reused when one of that size is cached.
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= minimumBytes {
            let reused: UInt? = state.withLock { s in
                guard let p = s.free[bytes]?.popLast() else { s.misses += 1; return nil }
                s.cachedBytes -= bytes
                s.hits += 1
                return p
            }
            if let reused, let p = UnsafeMutableRawPointer(bitPattern: reused) { return p }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    /// Returns a buffer from ``allocate(bytes:)``.
    static func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= minimumBytes {
            let kept = state.withLock { s -> Bool in
                guard s.cachedBytes + bytes <= capacityBytes else { return false }
                s.free[bytes, default: []].append(UInt(bitPattern: pointer))
                s.cachedBytes += bytes
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Frees every cached buffer.
    public static func empty() {
        let buffers = state.withLock { s -> [UInt] in
            let all = s.free.values.flatMap { $0 }
            s.free = [:]
            s.cachedBytes = 0
            return all
        }
        for address in buffers { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Bytes currently cached, and how many large allocations were served from the cache or not.
    public static var statistics: (cachedBytes: Int, hits: Int, misses: Int) {
        state.withLock { ($0.cachedBytes, $0.hits, $0.misses) }
    }
}

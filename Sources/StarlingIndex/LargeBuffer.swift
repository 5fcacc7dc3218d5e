#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Allocation for the indexes' big arrays (vectors, links, visited marks). Buffers of 4 MiB or
/// more are aligned to 2 MiB and marked for transparent huge pages: a graph search touches a
/// random node per step, and with 4 KiB pages each touch is also a TLB miss (a million 64-d
/// vectors span 65,000 pages). Everything from here is released with ``free(_:)``.
enum LargeBuffer {
    static let hugePage = 2 << 20

    static func allocate<T>(_ type: T.Type = T.self, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count * MemoryLayout<T>.stride)
        var raw: UnsafeMutableRawPointer?
        let alignment = bytes >= 2 * hugePage ? hugePage : max(64, MemoryLayout<T>.alignment)
        guard posix_memalign(&raw, alignment, bytes) == 0, let raw else { fatalError("LargeBuffer: out of memory allocating \(bytes) bytes") }
        #if os(Linux)
        if alignment == hugePage { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
        #endif
        return raw.bindMemory(to: T.self, capacity: count)
    }

    static func free<T>(_ p: UnsafeMutablePointer<T>) {
        #if canImport(Glibc)
        Glibc.free(UnsafeMutableRawPointer(p))
        #else
        Darwin.free(UnsafeMutableRawPointer(p))
        #endif
    }

    /// A buffer of `new` elements holding the first `used` of `p` (which is freed).
    static func grow<T>(_ p: UnsafeMutablePointer<T>, used: Int, to new: Int) -> UnsafeMutablePointer<T> {
        let q = allocate(T.self, count: new)
        q.moveInitialize(from: p, count: used)
        free(p)
        return q
    }
}

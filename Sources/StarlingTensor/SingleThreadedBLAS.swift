import Synchronization

/// Keeps OpenBLAS single-threaded while a model's own worker threads train: its idle helper
/// threads would otherwise spin beside them on the same cores. The thread count is process-wide,
/// so overlapping trainings share one scope: the first to enter saves the count, the last to leave
/// restores it.
public enum SingleThreadedBLAS {
    private static let state = Mutex<(depth: Int, saved: Int)>((0, 1))

    public static func enter() {
        state.withLock { s in
            if s.depth == 0 {
                s.saved = BLAS.threadCount
                BLAS.setThreadCount(1)
            }
            s.depth += 1
        }
    }

    public static func leave() {
        state.withLock { s in
            s.depth -= 1
            if s.depth == 0 { BLAS.setThreadCount(s.saved) }
        }
    }
}

extension SingleThreadedBLAS {
    /// Runs `body` with OpenBLAS single-threaded.
    public static func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        enter()
        defer { leave() }
        return try body()
    }
}

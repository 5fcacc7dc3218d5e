import Foundation
import StarlingRedis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private `redis-server` for one test: on a free loopback port, in a temporary folder, with no
/// persistence. ``with(_:)`` starts it, waits until it answers PING and stops it (SIGTERM, then
/// waits for it to exit) when the body returns or throws. A missing `redis-server` is an error,
/// so the tests that need it fail rather than skip.
final class RedisTestServer: @unchecked Sendable {
    let port: Int
    let directory: URL
    private let pid: pid_t

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `redis-server` from PATH, else /usr/bin or /usr/local/bin.
    static func executable() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let url = URL(fileURLWithPath: dir).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw Failure(description: "redis-server is not installed (not in PATH, /usr/bin or /usr/local/bin): "
            + "the Redis tests need it (scripts/setup-system.sh --python installs it)")
    }

    /// A port nobody listens on now: bind 127.0.0.1:0 and read which port the kernel chose.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "bind(127.0.0.1:0) failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure(description: "getsockname failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `path` with `arguments`, output to /dev/null, with an empty signal mask and
    /// SIGTERM/SIGINT at their defaults. (Foundation's `Process` passes on the mask of the thread
    /// that starts it, and the test runner's threads block SIGTERM: redis-server would never
    /// see it.)
    static func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard status == 0 else { throw Failure(description: "starting \(path) failed: \(String(cString: strerror(status)))") }
        return pid
    }

    /// Whether `pid` has exited (reaping it if so).
    private static func exited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) != 0
    }

    private init() throws {
        let binary = try Self.executable()
        var lastError = ""
        // The port is free when chosen but another process could take it first: try a few.
        for _ in 0..<3 {
            let port = try Self.freePort()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-redis-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let pid = try Self.spawn(binary.path, ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                                   "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path])
            let deadline = Date().addingTimeInterval(10)
            var running = true
            while Date() < deadline && running {
                if let c = try? RedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(1)),
                   (try? c.command(["PING"])) == .status("PONG") {
                    self.port = port
                    self.directory = directory
                    self.pid = pid
                    return
                }
                running = !Self.exited(pid)
                if running { usleep(20_000) }
            }
            let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
            lastError = "redis-server on port \(port) did not answer PING within 10 s: \(log.suffix(500))"
            if running { Self.terminate(pid) }
            try? FileManager.default.removeItem(at: directory)
        }
        throw Failure(description: lastError)
    }

    /// SIGTERM and wait for the exit (SIGKILL if it has not exited after 10 s).
    private static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while !exited(pid) {
            if Date() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                return
            }
            usleep(5_000)
        }
    }

    /// Stops the server and removes its folder.
    private func stop() {
        Self.terminate(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a fresh server, stopped afterwards whatever happens.
    static func with<T>(_ body: (RedisTestServer) throws -> T) throws -> T {
        let server = try RedisTestServer()
        defer { server.stop() }
        return try body(server)
    }

    /// The async form of ``with(_:)``.
    static func withAsync<T>(_ body: (RedisTestServer) async throws -> T) async throws -> T {
        let server = try RedisTestServer()
        defer { server.stop() }
        return try await body(server)
    }

    /// A new connection to this server.
    func connect() throws -> RedisConnection { try RedisConnection(host: "127.0.0.1", port: port) }
}

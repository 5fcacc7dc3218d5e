import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection to a Redis server through hiredis's synchronous API.
///
/// Commands are sent as argument vectors (`redisCommandArgv`), so keys and values are binary safe
/// and nothing is ever formatted into protocol text here; ``pipeline(_:)-([[[UInt8]]])`` sends many
/// commands before reading their replies (one round trip).
///
/// **Not thread-safe**: hiredis keeps one output buffer and one reply reader per connection, so
/// one caller at a time. Types that share connections between threads hold them in a `Mutex`
/// (``RedisConnectionPool``). Calls block the calling thread; from async code run them on a thread
/// of their own, not on the cooperative pool. After an I/O error or a timeout the connection is
/// ``isBroken`` and every further call throws: open a new one.
public final class RedisConnection {
    /// The server's host name or address, as given.
    public let host: String
    /// The server's TCP port.
    public let port: Int
    private let context: UnsafeMutablePointer<redisContext>
    /// Set once the connection failed (I/O error, timeout, server closed it); it cannot be reused.
    public private(set) var isBroken = false
    private var brokenReason = ""

    /// `host:port`, as error messages name the server.
    public var endpoint: String { "\(host):\(port)" }

    /// Connects to `host:port`, waiting at most `timeout` for the connection; each later command
    /// waits at most `timeout` for its reply too (see ``setTimeout(_:)``).
    public init(host: String, port: Int, timeout: Duration = .seconds(5)) throws(RedisError) {
        let endpoint = "\(host):\(port)"
        guard (1...65_535).contains(port) else { throw .connectionFailed(endpoint: endpoint, reason: "the port must be 1–65535") }
        guard !host.isEmpty else { throw .connectionFailed(endpoint: endpoint, reason: "no host name") }
        guard let c = redisConnectWithTimeout(host, Int32(port), Self.timeValue(timeout)) else {
            throw .connectionFailed(endpoint: endpoint, reason: "hiredis could not allocate a context")
        }
        if c.pointee.err != 0 {
            let reason = Self.errorText(c)
            redisFree(c)
            throw .connectionFailed(endpoint: endpoint, reason: reason)
        }
        guard redisSetTimeout(c, Self.timeValue(timeout)) == REDIS_OK else {
            let reason = Self.errorText(c)
            redisFree(c)
            throw .connectionFailed(endpoint: endpoint, reason: "setting the timeout failed: \(reason)")
        }
        self.host = host
        self.port = port
        context = c
    }

    deinit { redisFree(context) }

    /// How long each command waits for its reply (a blocking read such as `XREADGROUP … BLOCK ms`
    /// needs more than its block time). A reply that does not come in time breaks the connection.
    public func setTimeout(_ timeout: Duration) throws(RedisError) {
        guard redisSetTimeout(context, Self.timeValue(timeout)) == REDIS_OK else {
            throw markBroken(command: "(set timeout)")
        }
    }

    /// Sends one command and waits for its reply; an error reply is thrown as
    /// ``RedisError/server(command:message:)`` naming the command.
    @discardableResult
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends one command of binary arguments and waits for its reply; an error reply is thrown.
    @discardableResult
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        let name = Self.commandName(arguments)
        guard !arguments.isEmpty else { throw .invalidArgument("a Redis command needs at least its name") }
        guard !isBroken else { throw .connectionLost(endpoint: endpoint, command: name, reason: brokenReason) }
        let raw = Self.withArgv(arguments) { argc, argv, lengths in redisCommandArgv(context, argc, argv, lengths) }
        guard let raw else { throw markBroken(command: name) }
        defer { freeReplyObject(raw) }
        return try RedisReply(raw.assumingMemoryBound(to: redisReply.self)).checked(name)
    }

    /// Sends every command, then reads every reply (one round trip). Error replies are returned in
    /// place (``RedisReply/error(_:)``), so one failed command does not hide the others' results;
    /// a broken connection throws.
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        try pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    /// ``pipeline(_:)-([[String]])`` for binary arguments.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        guard commands.allSatisfy({ !$0.isEmpty }) else { throw .invalidArgument("a Redis command needs at least its name") }
        let name = "pipeline of \(commands.count) (\(Self.commandName(commands[0]))…)"
        guard !isBroken else { throw .connectionLost(endpoint: endpoint, command: name, reason: brokenReason) }
        for arguments in commands {
            let status = Self.withArgv(arguments) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
            guard status == REDIS_OK else { throw markBroken(command: name) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw markBroken(command: name) }
            replies.append(RedisReply(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Marks the connection broken with hiredis's error text; returns the error to throw.
    private func markBroken(command: String) -> RedisError {
        isBroken = true
        brokenReason = context.pointee.err != 0 ? Self.errorText(context) : "no reply"
        if brokenReason.isEmpty || brokenReason == "Resource temporarily unavailable" { brokenReason = "no reply within the timeout (\(brokenReason))" }
        return .connectionLost(endpoint: endpoint, command: command, reason: brokenReason)
    }

    /// The command's name for messages: the first argument in capitals, with the subcommand of
    /// container commands (`XGROUP CREATE`, `SCRIPT LOAD`).
    static func commandName(_ arguments: [[UInt8]]) -> String {
        guard let first = arguments.first else { return "(empty command)" }
        let name = String(decoding: first.prefix(32), as: UTF8.self).uppercased()
        if ["XGROUP", "XINFO", "SCRIPT", "CONFIG", "CLIENT", "OBJECT", "MEMORY"].contains(name), arguments.count > 1 {
            return name + " " + String(decoding: arguments[1].prefix(32), as: UTF8.self).uppercased()
        }
        return name
    }

    private static func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    private static func timeValue(_ d: Duration) -> timeval {
        let (seconds, attoseconds) = max(d, .milliseconds(1)).components
        return timeval(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
    }

    /// Calls `body` with hiredis's argument vector: `argc`, pointers to each argument's bytes and
    /// their lengths (all arguments copied into one buffer that lives for the call).
    private static func withArgv<R>(_ arguments: [[UInt8]],
                                    _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        offsets.reserveCapacity(arguments.count)
        for a in arguments { offsets.append(bytes.count); bytes.append(contentsOf: a) }
        bytes.append(0)  // never empty, so the buffer has an address even when every argument is
        let lengths = arguments.map(\.count)
        return bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return argv.withUnsafeMutableBufferPointer { a in
                lengths.withUnsafeBufferPointer { l in body(Int32(arguments.count), a.baseAddress!, l.baseAddress!) }
            }
        }
    }
}

import Foundation
import StarlingRedis
import Synchronization
import Testing

@Suite("Redis connection through hiredis")
struct RedisConnectionTests {
    @Test("commands and replies round trip, binary safe; pipelines return every reply")
    func roundTrip() throws {
        try RedisTestServer.with { server in
            let c = try server.connect()
            #expect(try c.command(["PING"]) == .status("PONG"))
            // Binary-safe keys and values: NUL bytes, CR LF, bytes that are not UTF-8.
            let key: [UInt8] = Array("k\0\r\n".utf8) + [0xFF]
            let value: [UInt8] = [0, 13, 10, 0xC3, 0x28, 255, 0, 42]
            #expect(try c.command([Array("SET".utf8), key, value]) == .status("OK"))
            #expect(try c.command([Array("GET".utf8), key]) == .bulk(value))
            #expect(try c.command(["GET", "missing"]) == .null)
            #expect(try c.command(["INCRBY", "n", "41"]) == .integer(41))
            #expect(try c.command(["SET", "empty", ""]) == .status("OK"))
            #expect(try c.command(["GET", "empty"]) == .bulk([]))
            try c.command(["RPUSH", "list", "a", "b", "ü"])
            #expect(try c.command(["LRANGE", "list", "0", "-1"]) == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8)), .bulk(Array("ü".utf8))]))
            #expect(try c.command(["LRANGE", "list", "0", "-1"]).array?.compactMap(\.string) == ["a", "b", "ü"])
            // A pipeline: every reply in order, an error reply in place without hiding the rest.
            var commands = (0..<200).map { _ in ["INCR", "counter"] }
            commands.insert(["LPUSH", "n", "x"], at: 100)
            let replies = try c.pipeline(commands)
            #expect(replies.count == 201)
            #expect(replies[..<100].map(\.integer) == (1...100).map { Int64($0) })
            #expect(replies[101...].map(\.integer) == (101...200).map { Int64($0) })
            guard case let .error(message) = replies[100] else { Issue.record("expected an error reply, got \(replies[100])"); return }
            #expect(message.hasPrefix("WRONGTYPE"))
            #expect(try c.command(["GET", "counter"]).integer == 200)
        }
    }

    @Test("an error reply is a RedisError naming the command; the connection stays usable")
    func serverErrors() throws {
        try RedisTestServer.with { server in
            let c = try server.connect()
            #expect {
                try c.command(["NOSUCHCOMMAND", "x"])
            } throws: { error in
                guard let e = error as? RedisError, case let .server(command, message) = e else { return false }
                return command == "NOSUCHCOMMAND" && message.contains("unknown command") && e.description.contains("NOSUCHCOMMAND")
            }
            try c.command(["SET", "s", "text"])
            #expect(throws: RedisError.server(command: "LPUSH", message: "WRONGTYPE Operation against a key holding the wrong kind of value")) {
                try c.command(["LPUSH", "s", "x"])
            }
            #expect(throws: RedisError.self) { try c.command(["XGROUP", "CREATE", "nostream", "g", "$"]) }
            do { try c.command(["XGROUP", "CREATE", "nostream", "g", "$"]) } catch {
                #expect("\(error)".hasPrefix("Redis XGROUP CREATE failed:"), "\(error)")
            }
            #expect(!c.isBroken)
            #expect(try c.command(["GET", "s"]).string == "text")
        }
    }

    @Test("connecting to a closed port is an error naming host:port")
    func closedPort() throws {
        let port = try RedisTestServer.freePort()
        #expect {
            _ = try RedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(1))
        } throws: { error in
            guard let e = error as? RedisError, case let .connectionFailed(endpoint, reason) = e else { return false }
            return endpoint == "127.0.0.1:\(port)" && e.description.contains("127.0.0.1:\(port)") && reason.lowercased().contains("refused")
        }
        #expect(throws: RedisError.self) { _ = try RedisConnection(host: "127.0.0.1", port: 0) }
    }

    @Test("a reply that does not come in time breaks the connection; the pool opens a new one")
    func timeoutAndPool() throws {
        try RedisTestServer.with { server in
            let c = try server.connect()
            try c.setTimeout(.milliseconds(200))
            #expect {
                try c.command(["BLPOP", "nothing", "5"])
            } throws: { error in
                guard case let .connectionLost(endpoint, command, _) = error as? RedisError else { return false }
                return endpoint == "127.0.0.1:\(server.port)" && command == "BLPOP"
            }
            #expect(c.isBroken)
            #expect(throws: RedisError.self) { try c.command(["PING"]) }

            // Threads share a pool; a call that breaks its connection does not break the pool.
            let pool = RedisConnectionPool(host: "127.0.0.1", port: server.port, size: 3, timeout: .milliseconds(300))
            #expect(throws: RedisError.self) {
                try pool.withConnection { (c: RedisConnection) throws(RedisError) -> RedisReply in try c.command(["BLPOP", "nothing", "5"]) }
            }
            let errors = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                for _ in 0..<100 {
                    do { _ = try pool.withConnection { (c: RedisConnection) throws(RedisError) -> RedisReply in try c.command(["INCR", "shared"]) } } catch {
                        errors.add(1, ordering: .relaxed)
                    }
                }
            }
            #expect(errors.load(ordering: .relaxed) == 0)
            #expect(try server.connect().command(["GET", "shared"]).integer == 800)
        }
    }
}

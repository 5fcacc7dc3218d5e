#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StarlingLoopbackClient

/// A failure of the browser machinery (chromedriver, Chromium or a wait), with what was going on.
struct WebDriverError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A free TCP port on 127.0.0.1: bound to port 0, read back, released (a later bind can race, so
/// callers retry).
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let s = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard s >= 0 else { throw WebDriverError("socket: \(String(cString: strerror(errno)))") }
    defer { close(s) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            bind(s, p, length) == 0 && getsockname(s, p, &length) == 0
        }
    }
    guard bound else { throw WebDriverError("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Polls `condition` every `interval` until it returns a value; throws after `timeout`, naming
/// `what` and the last error the condition threw.
func waitUntil<T>(_ what: String, timeout: Duration = .seconds(15), interval: Duration = .milliseconds(50),
                  _ condition: () async throws -> T?) async throws -> T {
    let clock = ContinuousClock(), deadline = clock.now + timeout
    var lastError: (any Error)?
    while true {
        do {
            if let value = try await condition() { return value }
            lastError = nil
        } catch { lastError = error }
        guard clock.now < deadline else {
            throw WebDriverError("timed out after \(timeout) waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
        }
        try await Task.sleep(for: interval)
    }
}

/// `chromedriver` running as a child process on a free loopback port, and the Chromium it drives.
///
/// It speaks the W3C WebDriver protocol (JSON over HTTP) through ``LoopbackHTTPClient``, so
/// nothing but 127.0.0.1 is ever contacted; Chromium runs headless with its background
/// networking, updates, sync and first-run pages off, in a temporary profile, and resolves no
/// host name but 127.0.0.1.
final class ChromeDriver: @unchecked Sendable {
    let chromium: String
    let chromedriver: String
    let port: Int
    let directory: URL
    private let process: Process
    /// Blocking HTTP runs here, off Swift concurrency's threads (the server under test needs them).
    private let queue = DispatchQueue(label: "starling.test.webdriver")
    private var client: LoopbackHTTPClient?

    /// Chromium and chromedriver from `STARLING_CHROMIUM` / `STARLING_CHROMEDRIVER`, else
    /// /usr/bin/chromium and /usr/bin/chromedriver.
    static var paths: (chromium: String, chromedriver: String) {
        let env = ProcessInfo.processInfo.environment
        return (env["STARLING_CHROMIUM"] ?? "/usr/bin/chromium", env["STARLING_CHROMEDRIVER"] ?? "/usr/bin/chromedriver")
    }

    private init(chromium: String, chromedriver: String, port: Int, directory: URL, process: Process) {
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// Starts chromedriver on a free port and waits until its `/status` says ready (a port taken
    /// between choosing and binding it makes chromedriver exit: then another port is tried).
    static func start() async throws -> ChromeDriver {
        let (chromium, chromedriver) = paths
        for path in [chromium, chromedriver] where !FileManager.default.isExecutableFile(atPath: path) {
            throw WebDriverError("\(path) is not an executable: install chromium and chromium-driver (scripts/setup-system.sh --python) "
                + "or set STARLING_CHROMIUM and STARLING_CHROMEDRIVER")
        }
        var problems: [String] = []
        for _ in 0..<5 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-chromedriver-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let port = try freeLoopbackPort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromedriver)
            // No --allowed-ips: with it chromedriver listens on every interface, without it on loopback only.
            process.arguments = ["--port=\(port)", "--log-path=\(directory.appendingPathComponent("chromedriver.log").path)"]
            let output = directory.appendingPathComponent("chromedriver.out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try? handle.close()
            let driver = ChromeDriver(chromium: chromium, chromedriver: chromedriver, port: port, directory: directory, process: process)
            do {
                _ = try await waitUntil("chromedriver on port \(port) to be ready", timeout: .seconds(20)) { () async throws -> Bool? in
                    guard process.isRunning else { throw WebDriverError("chromedriver exited with status \(process.terminationStatus)") }
                    let status = try? await driver.command("GET", "/status")
                    return ((status as? [String: Any])?["ready"] as? Bool) == true ? true : nil
                }
                return driver
            } catch {
                problems.append("\(error): \(driver.logTail())")
                driver.stop()
            }
        }
        throw WebDriverError("chromedriver did not start: \(problems.joined(separator: "; "))")
    }

    /// The end of chromedriver's output and log, for failure messages.
    func logTail(_ characters: Int = 1500) -> String {
        let text = ["chromedriver.out", "chromedriver.log"].compactMap {
            try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
        return String(text.suffix(characters))
    }

    /// Sends one WebDriver command; returns the response's `value` (`NSNull` when it is null).
    /// A WebDriver error becomes a ``WebDriverError`` with its `error` and `message`.
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, data) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int, Data), any Error>) in
            queue.async {
                continuation.resume(with: Result {
                    if self.client == nil { self.client = try LoopbackHTTPClient(port: self.port) }
                    let headers = payload == nil ? [:] : ["Content-Type": "application/json; charset=utf-8"]
                    let response = try self.client!.request(method, path, body: payload, headers: headers)
                    return (response.status, response.body)
                })
            }
        }
        let json = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any]
        guard let json, let value = json["value"] else {
            throw WebDriverError("\(method) \(path) → \(status): not a WebDriver response: \(String(decoding: data.prefix(500), as: UTF8.self))")
        }
        if status >= 400 || (value as? [String: Any])?["error"] is String {
            let error = value as? [String: Any]
            throw WebDriverError("\(method) \(path) → \(status) \(error?["error"] as? String ?? ""): \(String((error?["message"] as? String ?? "").prefix(600)))")
        }
        return value
    }

    /// Opens a headless Chromium session with a fresh profile.
    func newSession() async throws -> WebDriverSession {
        let profile = directory.appendingPathComponent("profile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let args = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
            "--no-default-browser-check", "--disable-extensions", "--disable-client-side-phishing-detection",
            "--disable-domain-reliability", "--disable-breakpad", "--disable-features=Translate,MediaRouter,OptimizationHints",
            // Belt and braces: no host name resolves, so nothing but 127.0.0.1 can be reached.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--window-size=1280,1000", "--lang=en-US", "--user-data-dir=\(profile.path)",
        ]
        let capabilities: [String: Any] = [
            "capabilities": ["alwaysMatch": [
                "goog:chromeOptions": ["binary": chromium, "args": args],
                "pageLoadStrategy": "normal",
                // Console errors, uncaught exceptions and failed loads, for `severeLogEntries()`.
                "goog:loggingPrefs": ["browser": "SEVERE"],
                "timeouts": ["implicit": 0, "pageLoad": 30_000, "script": 15_000],
            ] as [String: Any]],
        ]
        let value = try await command("POST", "/session", capabilities)
        guard let id = (value as? [String: Any])?["sessionId"] as? String else {
            throw WebDriverError("POST /session: no session id in \(value)")
        }
        return WebDriverSession(driver: self, id: id)
    }

    /// Stops chromedriver (its `/shutdown` command, SIGKILL if it is still running after 3 s)
    /// and any browser process it left behind (a session not deleted), then removes its files;
    /// safe to call twice.
    ///
    /// Not SIGTERM: a process that serves with Hummingbird ignores SIGTERM (swift-service-lifecycle
    /// catches it through a dispatch source), and its children inherit the ignored signal.
    func stop() {
        if process.isRunning {
            let children = Self.descendants(of: process.processIdentifier)
            queue.sync {
                if client == nil { client = try? LoopbackHTTPClient(port: port) }
                _ = try? client?.request("GET", "/shutdown")
                client?.disconnect()
                client = nil
            }
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            for child in children where Self.startTime(of: child.pid) == child.started { kill(child.pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The fields of /proc/PID/stat after "PID (command)", from the state on (Linux only).
    private static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// When `pid` started (clock ticks since boot), to tell it from a later process with its id.
    private static func startTime(of pid: pid_t) -> Substring? { statFields(pid).flatMap { $0.count > 19 ? $0[19] : nil } }

    /// The processes descended from `root`, with their start times (Linux: from /proc; elsewhere none).
    static func descendants(of root: pid_t) -> [(pid: pid_t, started: Substring)] {
        var parents: [pid_t: (parent: pid_t, started: Substring)] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), let fields = statFields(pid), fields.count > 19, let parent = pid_t(fields[1]) else { continue }
            parents[pid] = (parent, fields[19])
        }
        var found: [(pid: pid_t, started: Substring)] = [], frontier = [root]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value.parent == next }
            found += children.map { ($0.key, $0.value.started) }
            frontier += children.map(\.key)
        }
        return found
    }
}

/// One browser session: navigation, elements by CSS selector, clicks, text, attributes, scripts.
final class WebDriverSession: Sendable {
    let driver: ChromeDriver
    let id: String

    init(driver: ChromeDriver, id: String) {
        self.driver = driver
        self.id = id
    }

    /// The key of an element reference in WebDriver JSON.
    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        try await driver.command(method, "/session/\(id)\(path)", body)
    }

    func navigate(to url: String) async throws {
        _ = try await command("POST", "/url", ["url": url])
    }

    /// The first element matching `css`; throws when there is none.
    func find(_ css: String) async throws -> WebElement {
        try element(from: try await command("POST", "/element", ["using": "css selector", "value": css]))
    }

    /// Every element matching `css` (possibly none).
    func findAll(_ css: String) async throws -> [WebElement] {
        try elements(from: try await command("POST", "/elements", ["using": "css selector", "value": css]))
    }

    /// Runs `script` (a function body; `arguments[k]` are `args`, elements allowed) and returns its
    /// JSON result.
    func execute(_ script: String, _ args: [Any] = []) async throws -> Any {
        let encoded = args.map { ($0 as? WebElement).map { [Self.elementKey: $0.id] as Any } ?? $0 }
        return try await command("POST", "/execute/sync", ["script": script, "args": encoded])
    }

    /// The browser's console log entries of level SEVERE since the last call (uncaught
    /// exceptions, `console.error`, failed loads).
    func severeLogEntries() async throws -> [String] {
        let entries = try await command("POST", "/se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.filter { $0["level"] as? String == "SEVERE" }.map { $0["message"] as? String ?? "\($0)" }
    }

    /// Ends the session (Chromium quits).
    func delete() async {
        _ = try? await driver.command("DELETE", "/session/\(id)")
    }

    func element(from value: Any) throws -> WebElement {
        guard let id = (value as? [String: Any])?[Self.elementKey] as? String else { throw WebDriverError("not an element: \(value)") }
        return WebElement(session: self, id: id)
    }

    func elements(from value: Any) throws -> [WebElement] {
        guard let list = value as? [Any] else { throw WebDriverError("not a list of elements: \(value)") }
        return try list.map(element(from:))
    }
}

/// An element of the current page.
struct WebElement: Sendable {
    let session: WebDriverSession
    let id: String

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        try await session.command(method, "/element/\(id)\(path)", body)
    }

    func find(_ css: String) async throws -> WebElement {
        try session.element(from: try await command("POST", "/element", ["using": "css selector", "value": css]))
    }

    func findAll(_ css: String) async throws -> [WebElement] {
        try session.elements(from: try await command("POST", "/elements", ["using": "css selector", "value": css]))
    }

    func click() async throws { _ = try await command("POST", "/click", [:]) }

    func clear() async throws { _ = try await command("POST", "/clear", [:]) }

    /// Types `text` into the element.
    func type(_ text: String) async throws { _ = try await command("POST", "/value", ["text": text]) }

    /// The rendered text.
    func text() async throws -> String { try await command("GET", "/text") as? String ?? "" }

    /// An attribute's value (`nil` when absent).
    func attribute(_ name: String) async throws -> String? { try await command("GET", "/attribute/\(name)") as? String }

    /// A DOM property's value (e.g. `disabled`, `hidden`).
    func property(_ name: String) async throws -> Any { try await command("GET", "/property/\(name)") }

    func isEnabled() async throws -> Bool { try await command("GET", "/enabled") as? Bool ?? false }

    func isDisplayed() async throws -> Bool { try await command("GET", "/displayed") as? Bool ?? false }
}

import Foundation
import StarlingLoopbackClient
import StarlingSimulation

/// One recommendation service under test, driven over HTTP the way a shop's front end would
/// drive it: it creates the items that appear (POST /items), asks for each visitor's list (GET
/// /recommend/{user}?k=…), lets the hidden ``ClickModel`` decide what the visitor clicks and
/// buys, and sends those events and the round's organic views back (POST /events, with explicit
/// timestamps in simulated event time and unique event ids).
///
/// Freshness probes: in a probed round, after every visitor's list was fetched and before the
/// round's other events are sent, the first visitors who clicked have their first click sent on
/// its own, one after the other; after each, that visitor's list is polled until it changed in a
/// way other than the clicked item disappearing, that is until the new list's first k−1 items
/// differ from the old list without the clicked item. Nothing else is sent to the service
/// meanwhile, so a change is that click's doing. The time counts from sending the click to
/// receiving the changed list.
///
/// Settling: a round's lists are asked for at least `settleMs` after the previous round's events
/// were acknowledged. The service caches its popular list for 200 ms of wall time; after that
/// wait a list depends on the events and the served model only. (The service builds the model's
/// HNSW index on several threads, so two services opened on copies of one folder can still
/// differ slightly: on one core, or with a catalogue small enough for the search to be exact,
/// runs repeat exactly and identically configured arms give identical counts.)
///
/// Used by one thread at a time: its client is one blocking keep-alive connection.
final class SimulationArm: @unchecked Sendable {
    /// How freshness is probed.
    struct Probing: Sendable {
        /// Visitors probed in a probed round (at most), one after the other.
        var users: Int
        /// Give up after this long.
        var timeoutMs: Double
        /// Pause between polls.
        var pollMs: Double
    }

    /// What one probe saw.
    struct ProbeResult: Sendable {
        /// Milliseconds from sending the click to the first changed list; nil if it did not change in time.
        var changedAfterMs: Double?
    }

    let name: String
    let port: Int
    /// List length asked for.
    let k: Int
    /// Least wall time between a round's events being acknowledged and the next round's lists.
    let settleMs: Double
    private let client: LoopbackHTTPClient
    /// When the last round's events were acknowledged (uptime nanoseconds).
    private var lastSent: UInt64?
    private(set) var tally = EngagementTally()
    private(set) var probes: [ProbeResult] = []
    /// The active model version after each window (GET /models), in order.
    private(set) var activeVersions: [Int?] = []

    init(name: String, port: Int, k: Int, settleMs: Double) throws {
        self.name = name
        self.port = port
        self.k = k
        self.settleMs = settleMs
        client = try LoopbackHTTPClient(port: port)
    }

    // MARK: requests

    /// Sends a request and checks its status; returns the response.
    @discardableResult
    static func call(_ client: LoopbackHTTPClient, _ method: String, _ path: String, body: Data? = nil,
                     expect status: Int = 200) throws -> LoopbackHTTPClient.Response {
        let headers = body == nil ? [:] : ["Content-Type": "application/json"]
        let response = try client.request(method, path, body: body, headers: headers)
        guard response.status == status else {
            throw SimulationFailure.http(method: method, path: path, status: response.status, body: response.text)
        }
        return response
    }

    /// The item ids of `user`'s recommendation list.
    static func recommend(_ client: LoopbackHTTPClient, user: String, k: Int) throws -> [String] {
        let path = "/recommend/\(user)?k=\(k)"
        let response = try call(client, "GET", path)
        guard let items = response.json?["items"] as? [[String: Any]] else {
            throw SimulationFailure.unexpectedResponse(path: path, reason: "no 'items' array")
        }
        return try items.map { entry in
            guard let id = entry["item"] as? String else { throw SimulationFailure.unexpectedResponse(path: path, reason: "an item without an id") }
            return id
        }
    }

    /// Creates `indices` of the world's items in the service (POST /items, one each).
    func createItems(_ indices: some Sequence<Int>, of world: SimulatedWorld) throws {
        for i in indices {
            let item = world.items[i], category = world.categoryNames[item.category]
            let body = #"{"id":"\#(item.id)","title":"\#(category) item \#(item.id)","categories":["\#(category)"]}"#
            try Self.call(client, "POST", "/items", body: Data(body.utf8), expect: 201)
        }
    }

    /// Sends `events` (JSON objects) in batches of at most 5,000.
    func send(_ events: [String]) throws {
        var start = 0
        while start < events.count {
            let end = min(events.count, start + 5000)
            let body = "[" + events[start..<end].joined(separator: ",") + "]"
            try Self.call(client, "POST", "/events", body: Data(body.utf8))
            start = end
        }
    }

    /// The active model version (GET /models) and every published version listed.
    func models() throws -> (active: Int?, versions: [Int]) {
        let response = try Self.call(client, "GET", "/models")
        guard let json = response.json, let versions = json["versions"] as? [[String: Any]] else {
            throw SimulationFailure.unexpectedResponse(path: "/models", reason: "no 'versions' array")
        }
        return (json["active"] as? Int, versions.compactMap { $0["version"] as? Int })
    }

    /// The streaming-feature ranker's figures from GET /online (nil when the service has none):
    /// `active` (1 or 0), `examples`, `positives`, `auc`, the per-list AUCs on exploration lists, `activations`.
    func rankerFigures() throws -> [String: Double]? {
        let response = try Self.call(client, "GET", "/online")
        guard let ranker = response.json?["ranker"] as? [String: Any] else { return nil }
        var out: [String: Double] = [:]
        for key in ["examples", "positives", "auc", "exploration_lists", "ranker_list_auc", "engine_list_auc", "activations", "deactivations"] {
            if let v = ranker[key] as? Double { out[key] = v } else if let v = ranker[key] as? Int { out[key] = Double(v) }
        }
        out["active"] = (ranker["active"] as? Bool) == true ? 1 : 0
        return out
    }

    /// Trains a model on the service's whole log and promotes it (POST /models/retrain with
    /// `promote`, no hold-out measurement); returns its version.
    @discardableResult
    func retrainAndPromote(_ s: SimulationSettings) throws -> Int {
        let body = #"{"factors":\#(s.factors),"iterations":\#(s.iterations),"regularization":\#(s.regularization),"alpha":\#(s.alpha),"#
            + #""hold_out":0,"promote":true}"#
        let response = try Self.call(client, "POST", "/models/retrain", body: Data(body.utf8), expect: 201)
        guard let version = response.json?["version"] as? Int else {
            throw SimulationFailure.unexpectedResponse(path: "/models/retrain", reason: "no version")
        }
        return version
    }

    /// Records the active model version (called at the end of each window).
    func noteActiveVersion() throws { activeVersions.append(try models().active) }

    // MARK: rounds

    /// Plays `plan` against this service: creates the round's new items, gets every visitor's
    /// list, decides clicks and purchases, probes freshness when `probing` is given, and sends
    /// the round's events. Counts impressions, clicks and purchases of the round.
    func play(_ plan: RoundPlan, world: SimulatedWorld, clickModel: ClickModel, probing: Probing?) throws {
        try createItems(plan.arrivals, of: world)
        if let lastSent {
            let waited = Double(DispatchTime.now().uptimeNanoseconds - lastSent) / 1e6
            if waited < settleMs { usleep(UInt32((settleMs - waited) * 1000)) }
        }
        let seed = world.configuration.seed
        var clock: Int64 = 0
        func event(_ user: Int, _ item: Int, _ type: String, _ tag: String) -> String {
            defer { clock += 1 }
            return #"{"user":"\#(world.users[user].id)","item":"\#(world.items[item].id)","type":"\#(type)","#
                + #""timestamp":\#(plan.timestampMs + clock),"event_id":"sim\#(seed)-r\#(plan.round)-u\#(user)-\#(tag)"}"#
        }
        var events: [String] = []
        var probed: [(user: String, before: [String], clicked: String, event: String)] = []
        var impressions = 0, clicks = 0, purchases = 0
        for u in plan.visitors {
            let ids = try Self.recommend(client, user: world.users[u].id, k: k)
            let list = try ids.map { id in
                guard let i = world.itemIndex(of: id) else { throw SimulationFailure.unknownItem(id) }
                return i
            }
            impressions += list.count
            for c in clickModel.respond(world, user: u, list: list) {
                clicks += 1
                let click = event(u, c.item, "click", "c\(c.item)")
                if let probing, probed.count < probing.users, probed.last?.user != world.users[u].id {
                    probed.append((world.users[u].id, ids, world.items[c.item].id, click))
                } else {
                    events.append(click)
                }
                if c.purchased {
                    purchases += 1
                    events.append(event(u, c.item, "purchase", "p\(c.item)"))
                }
            }
        }
        if let probing {
            for p in probed {
                probes.append(try Self.probe(client, k: k, user: p.user, before: p.before, clicked: p.clicked, event: p.event, probing: probing))
            }
        }
        for (n, v) in plan.views.enumerated() { events.append(event(v.user, v.item, "view", "v\(n)")) }
        try send(events)
        lastSent = DispatchTime.now().uptimeNanoseconds
        tally.record(round: plan.round, impressions: impressions, clicks: clicks, purchases: purchases)
    }

    /// Sends one click on a connection of its own and polls `user`'s list until it changed other
    /// than by losing the clicked item (see the type's description).
    static func probe(_ client: LoopbackHTTPClient, k: Int, user: String, before: [String], clicked: String, event: String,
                      probing: Probing) throws -> ProbeResult {
        let expected = Array(before.filter { $0 != clicked }.prefix(k - 1))
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsedMs() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        try call(client, "POST", "/events", body: Data("[\(event)]".utf8))
        while true {
            let after = try recommend(client, user: user, k: k)
            let elapsed = elapsedMs()
            if Array(after.prefix(k - 1)) != expected { return ProbeResult(changedAfterMs: elapsed) }
            if elapsed >= probing.timeoutMs { return ProbeResult(changedAfterMs: nil) }
            usleep(UInt32(probing.pollMs * 1000))
        }
    }
}

import Foundation
import StarlingHTTP
import StarlingLoopbackClient
import StarlingServe
import Testing

@Suite("HTTP API on MovieLens-100K", .serialized)
struct ServiceAPITests {
    static func items(_ r: LoopbackHTTPClient.Response) -> [[String: Any]] { (r.json?["items"] as? [[String: Any]]) ?? [] }
    static func ids(_ r: LoopbackHTTPClient.Response) -> [String] { items(r).compactMap { $0["item"] as? String } }

    @Test("every route is in docs/openapi.json and every documented route exists")
    func routesMatchOpenAPI() async throws {
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: spec)) as? [String: Any])
        let paths = try #require(json["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "post", "put", "patch", "delete"]
        let documented = Set(paths.flatMap { path, ops in ops.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
        let server = try LiveServer(train: false)
        defer { try? FileManager.default.removeItem(at: server.directory) }
        _ = server.server.makeRouter()
        let registered = Set(server.server.routes)
        #expect(registered.count == server.server.routes.count, "a route is registered twice")
        #expect(registered.subtracting(documented).sorted() == [], "routes missing from the OpenAPI file")
        #expect(documented.subtracting(registered).sorted() == [], "documented routes the server does not have")
    }

    @Test("recommend, similar, rank; freshness after an event; filters; unknown users; sessions")
    func recommendationPath() async throws {
        let live = try await LiveServer().start()
        defer { Task { await live.stop() } }
        let r = try await live.call("GET", "/recommend/196?k=10")
        #expect(r.status == 200)
        let first = Self.ids(r)
        #expect(first.count == 10)
        #expect(Self.items(r).allSatisfy { ($0["score"] as? Double)?.isFinite == true && ["ann", "item_to_item", "popular", "recent"].contains($0["source"] as? String ?? "") })
        // Nothing the user has seen comes back.
        let seen = Set(live.service.engine.recentItems(of: "196", limit: 20) ?? [])
        #expect(seen.isDisjoint(with: first))
        // Posting an event for the top item: the very next request no longer shows it, the
        // history shows it first, and the user's vector is refreshed (the list changes).
        let top = first[0]
        let ack = try await live.call("POST", "/events", json: ["user": "196", "item": top, "type": "click"])
        #expect(ack.status == 200)
        let after = Self.ids(try await live.call("GET", "/recommend/196?k=10"))
        #expect(!after.contains(top))
        let history = try await live.call("GET", "/users/196/history")
        #expect(((history.json?["recent"] as? [[String: Any]])?.first?["item"] as? String) == top)
        // Category and exclusion filters.
        let horror = try await live.call("GET", "/recommend/196?k=5&category=Horror&exclude=\(after[0])")
        #expect(Self.ids(horror).count == 5 && !Self.ids(horror).contains(after[0]))
        for id in Self.ids(horror) { #expect(try live.service.catalogue.item(id)?.categories.contains("Horror") == true) }
        // Hidden items are never recommended.
        let hide = try await live.call("PATCH", "/items/\(after[1])", json: ["hidden": true])
        #expect(hide.status == 200)
        #expect(!Self.ids(try await live.call("GET", "/recommend/196?k=10")).contains(after[1]))
        // Unknown user: popular fallback; anonymous session: personalised from its items.
        let cold = try await live.call("GET", "/recommend/somebody-new?k=5")
        #expect(cold.status == 200 && Self.items(cold).allSatisfy { $0["source"] as? String == "popular" || $0["source"] as? String == "recent" })
        let session = try await live.call("GET", "/recommend?session=50,181&k=5")
        #expect(session.status == 200 && Self.ids(session).count == 5 && !Self.ids(session).contains("50"))
        #expect(Self.items(session).contains { $0["source"] as? String == "ann" || $0["source"] as? String == "item_to_item" })
        // Similar items of Star Wars (50) are item-to-item neighbours, not itself.
        let similar = try await live.call("GET", "/items/50/similar?k=5")
        #expect(Self.ids(similar).count == 5 && !Self.ids(similar).contains("50"))
        // Rank: the given items, best first, scores descending.
        let ranked = try await live.call("POST", "/rank", json: ["user": "196", "items": ["50", "181", "1", "100"]])
        let scores = Self.items(ranked).compactMap { $0["score"] as? Double }
        #expect(Set(Self.ids(ranked)) == ["50", "181", "1", "100"] && scores == scores.sorted(by: >))
        // Diversity re-rank returns as many items, different order or items.
        let diverse = try await live.call("GET", "/recommend/196?k=10&diversity=0.7")
        #expect(Self.ids(diverse).count == 10)
    }

    @Test("streaming features: windowed counts per user, item and category follow posted events; re-sent ids count once")
    func streamingFeatures() async throws {
        let live = try await LiveServer(train: false).start()
        defer { Task { await live.stop() } }
        let definitions = try #require(try await live.call("GET", "/features").json?["definitions"] as? [[String: Any]])
        #expect(definitions.count == 21)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // Items 50 and 181 (Star Wars, Return of the Jedi) are both Sci-Fi in MovieLens-100K.
        let before = try await live.call("GET", "/features/category/Sci-Fi")
        let sciFiBefore = (before.json?["values"] as? [String: Double])?["category_clicks_5m"] ?? -1
        var events: [[String: Any]] = []
        for k in 0..<6 {
            let item = k < 4 ? "50" : "181", type = k % 2 == 0 ? "click" : "view", at: Int64 = now - Int64(k) * 60_000
            events.append(["user": "feature-user", "item": item, "type": type, "timestamp": at, "event_id": "feature-\(k)"])
        }
        for _ in 0..<2 { #expect(try await live.call("POST", "/events", json: events).status == 200) }
        let userFeatures = try await live.call("GET", "/features/user/feature-user").json
        // The last-N history: in posting order, the repeats of the newest item left out (the
        // second post re-sent the same event ids, which count once).
        #expect(userFeatures?["recent_items"] as? [String] == ["50", "181"])
        let user = try #require(userFeatures?["values"] as? [String: Double])
        #expect(user["user_events_5m"] == 5 && user["user_events_1h"] == 6 && user["user_clicks_1h"] == 3, "\(user)")
        let item = try #require(try await live.call("GET", "/features/item/50").json?["values"] as? [String: Double])
        #expect(item["item_events_1h"] == 4 && item["item_clicks_1h"] == 2, "\(item)")
        let sciFi = try #require(try await live.call("GET", "/features/category/Sci-Fi").json?["values"] as? [String: Double])
        #expect(sciFi["category_clicks_5m"] == sciFiBefore + 3, "\(sciFi)")
        // Two hours later only the 1-day windows remember them.
        let later = try #require(try await live.call("GET", "/features/user/feature-user?at=\(now + 7_200_000)").json?["values"] as? [String: Double])
        #expect(later["user_events_1h"] == 0 && later["user_events_1d"] == 6)
        #expect(try await live.call("GET", "/features/shop/1").status == 400)
        #expect(try await live.call("GET", "/features/user/x?at=soon").status == 400)
    }

    @Test("bad input gets a 4xx naming the problem")
    func badInput() async throws {
        let live = try await LiveServer(maxBodyBytes: 4096).start()
        defer { Task { await live.stop() } }
        let cases: [(String, String, String, Int, String)] = [
            ("POST", "/events", "{not json", 400, "malformed JSON"),
            ("POST", "/events", #"{"user": 5, "item": "50"}"#, 400, "field 'user'"),
            ("POST", "/events", #"{"item": "50"}"#, 400, "field 'user' is required"),
            ("POST", "/events", #"{"user": "u", "item": "no-such-item"}"#, 404, "no-such-item"),
            ("POST", "/events", #"{"user": "u", "item": "50", "type": "Bad Type"}"#, 400, "field 'type'"),
            ("POST", "/events", "[]", 400, "no events"),
            ("GET", "/recommend/196?k=0", "", 400, "k must be"),
            ("GET", "/recommend/196?k=x", "", 400, "'k' must be an integer"),
            ("GET", "/items/nope/similar", "", 404, "item 'nope'"),
            ("POST", "/rank", #"{"user": "196", "items": ["50", "zzz"]}"#, 404, "zzz"),
            ("GET", "/no/such/route", "", 404, "no route"),
            ("POST", "/models/99/promote", "", 404, "99"),
            ("POST", "/items", #"{"id": "50"}"#, 409, "already exists"),
            ("GET", "/users/196/history?limit=50", "", 400, "limit must be between 1 and 20"),
            ("PATCH", "/users/alice", #"{"attributes": {"plan": 3}}"#, 400, "field 'attributes.plan'"),
        ]
        for (method, path, body, status, fragment) in cases {
            let r = try await live.call(method, path, body: Data(body.utf8))
            #expect(r.status == status, "\(method) \(path) \(body)")
            #expect((r.json?["error"] as? String)?.contains(fragment) == true, "\(method) \(path): \(r.text)")
        }
        let big = try await live.call("POST", "/events", body: Data(repeating: 32, count: 10_000))
        #expect(big.status == 413)
        #expect(try await live.call("GET", "/healthz").status == 200)
    }

    @Test("users and items: create, get, update, list with a cursor, delete (with the user's events)")
    func catalogue() async throws {
        let live = try await LiveServer(train: false).start()
        defer { Task { await live.stop() } }
        let created = try await live.call("POST", "/items", json: ["id": "new-1", "title": "A new film", "categories": ["Drama"], "tags": ["indie"]])
        #expect(created.status == 201 && created.json?["title"] as? String == "A new film")
        #expect((try await live.call("GET", "/items/new-1")).json?["categories"] as? [String] == ["Drama"])
        #expect((try await live.call("PATCH", "/items/new-1", json: ["title": "Renamed", "attributes": ["year": "2026", "studio": "x"]])).json?["title"] as? String == "Renamed")
        let itemPatch = try await live.call("PATCH", "/items/new-1", body: Data(#"{"attributes": {"studio": null, "lang": "mi"}}"#.utf8))
        #expect(itemPatch.json?["attributes"] as? [String: String] == ["year": "2026", "lang": "mi"], "\(itemPatch.text)")
        #expect(itemPatch.json?["tags"] as? [String] == ["indie"])
        var seen: [String] = [], cursor: String? = nil
        repeat {
            let page = try await live.call("GET", "/items?limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
            seen += Self.ids(page).isEmpty ? ((page.json?["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []) : []
            cursor = page.json?["next_cursor"] as? String
        } while cursor != nil
        #expect(seen.count == 1683 && Set(seen).count == 1683 && seen == seen.sorted())
        #expect((try await live.call("DELETE", "/items/new-1")).status == 200)
        #expect((try await live.call("GET", "/items/new-1")).status == 404)

        #expect((try await live.call("POST", "/users", json: ["id": "alice", "attributes": ["country": "NZ"]])).status == 201)
        #expect((try await live.call("GET", "/users/alice")).json?["attributes"] as? [String: String] == ["country": "NZ"])
        // PATCH merges attributes: a string sets a key, null removes one, keys not named stay.
        let patched = try await live.call("PATCH", "/users/alice", body: Data(#"{"attributes": {"plan": "pro", "country": null}}"#.utf8))
        #expect(patched.json?["attributes"] as? [String: String] == ["plan": "pro"], "\(patched.text)")
        #expect((try await live.call("PATCH", "/users/alice", json: ["attributes": ["tier": "gold"]])).json?["attributes"] as? [String: String]
            == ["plan": "pro", "tier": "gold"])
        #expect((try await live.call("GET", "/users/alice")).json?["attributes"] as? [String: String] == ["plan": "pro", "tier": "gold"])
        // Deleting a user removes their events from the log, also after a restart.
        let before = live.service.log.eventCount
        let deleted = try await live.call("DELETE", "/users/196")
        #expect(deleted.status == 200 && deleted.json?["events_removed"] as? Int == 39)
        #expect(live.service.log.eventCount == before - 39)
        #expect(try live.service.log.events().allSatisfy { $0.user != "196" })
        #expect((try await live.call("GET", "/users/196")).status == 404)
    }

    @Test("API keys: open health, read keys for reads, write keys for events, admin keys for models")
    func apiKeys() async throws {
        let live = try await LiveServer(keys: APIKeys(admin: ["adm"], write: ["wrt"], read: ["rd"]), train: false).start()
        defer { Task { await live.stop() } }
        #expect(try await live.call("GET", "/healthz").status == 200)
        #expect(try await live.call("GET", "/recommend/196").status == 401)
        #expect(try await live.call("GET", "/recommend/196", headers: ["Authorization": "Bearer rd"]).status == 200)
        #expect(try await live.call("POST", "/events", json: ["user": "1", "item": "50"], headers: ["X-API-Key": "rd"]).status == 403)
        #expect(try await live.call("POST", "/events", json: ["user": "1", "item": "50"], headers: ["X-API-Key": "wrt"]).status == 200)
        #expect(try await live.call("POST", "/models/rollback", headers: ["X-API-Key": "wrt"]).status == 403)
        #expect(try await live.call("POST", "/models/rollback", headers: ["X-API-Key": "adm"]).status == 409)
    }

    @Test("models: retrain, promote, roll back; A/B experiment with deterministic arms and attributed clicks; metrics")
    func modelsExperimentsMetrics() async throws {
        let live = try await LiveServer().start()
        defer { Task { await live.stop() } }
        #expect((try await live.call("GET", "/readyz")).json?["model_version"] as? Int == 1)
        let trained = try await live.call("POST", "/models/retrain", json: ["factors": 8, "iterations": 3, "promote": true])
        #expect(trained.status == 201 && trained.json?["version"] as? Int == 2 && trained.json?["active"] as? Int == 2)
        // The version records its held-out accuracy (10% of the log's pairs, seeded) with the protocol.
        let info = try #require((try await live.call("GET", "/models")).json?["versions"] as? [[String: Any]]).first { $0["version"] as? Int == 2 }
        let metadata = info?["metadata"] as? [String: String] ?? [:]
        let recall = Double(metadata["holdout_recall@20"] ?? "") ?? -1
        #expect(recall > 0.05 && recall < 1, "\(metadata)")
        #expect(metadata["holdout_protocol"]?.contains("full ranking") == true && metadata["holdout_ndcg@20"] != nil && metadata["data_to"] != nil)
        #expect((try await live.call("GET", "/recommend/1?k=3")).json?["model_version"] as? Int == 2)
        #expect((try await live.call("POST", "/models/rollback")).json?["active"] as? Int == 1)
        let models = try await live.call("GET", "/models")
        #expect(models.json?["active"] as? Int == 1)
        // Publication times are Unix milliseconds, like every other time in the API.
        let published = (models.json?["versions"] as? [[String: Any]] ?? []).compactMap { $0["published"] as? Int64 }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(published.count == 2 && published.allSatisfy { abs($0 - now) < 600_000 }, "\(models.text)")

        let started = try await live.call("POST", "/experiments", json: ["id": "exp1", "arms": [["name": "control", "version": 1, "share": 1], ["name": "small", "version": 2, "share": 1]]])
        #expect(started.status == 201)
        var arms: [String: String] = [:]
        for u in 1...200 {
            let r = try await live.call("GET", "/recommend/\(u)?k=5")
            arms["\(u)"] = r.json?["arm"] as? String
            #expect(r.json?["model_version"] as? Int == (arms["\(u)"] == "control" ? 1 : 2))
            if u % 4 == 0, let item = Self.ids(r).first {
                _ = try await live.call("POST", "/events", json: ["user": "\(u)", "item": item, "type": "click"])
            }
        }
        // The same user always gets the same arm; both arms get traffic.
        #expect((try await live.call("GET", "/recommend/7?k=5")).json?["arm"] as? String == arms["7"])
        let counts = Dictionary(grouping: arms.values, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 2 && counts.values.allSatisfy { $0 > 60 })
        let results = try await live.call("GET", "/experiments/exp1")
        let armResults = try #require(results.json?["arms"] as? [[String: Any]])
        #expect(armResults.reduce(0) { $0 + ($1["impressions"] as? Int ?? 0) } == 201 * 5)
        #expect(armResults.reduce(0) { $0 + ($1["clicks"] as? Int ?? 0) } == 50)
        // A click re-sent with the same event id is stored once and counted once (arm clicks, history).
        let shown = Self.ids(try await live.call("GET", "/recommend/9?k=5"))
        let historyBefore = live.service.engine.historyCount(of: "9")
        for _ in 0..<3 {
            let r = try await live.call("POST", "/events", json: [["user": "9", "item": shown[0], "type": "click", "event_id": "click-9"]])
            #expect(r.status == 200)
        }
        let clicksAfter = try #require(try await live.call("GET", "/experiments/exp1").json?["arms"] as? [[String: Any]])
        #expect(clicksAfter.reduce(0) { $0 + ($1["clicks"] as? Int ?? 0) } == 51)
        #expect(live.service.engine.historyCount(of: "9") == historyBefore.map { $0 + 1 })
        for a in armResults { #expect((a["ctr_low"] as? Double ?? 1) <= (a["ctr"] as? Double ?? 0) && (a["ctr"] as? Double ?? 0) <= (a["ctr_high"] as? Double ?? 0)) }
        #expect((try await live.call("POST", "/experiments/exp1/stop")).json?["status"] as? String == "stopped")

        let metrics = try await live.call("GET", "/metrics")
        #expect(metrics.text.contains(#"starling_http_requests_total{route="/recommend/{user}",method="GET",status="200"}"#))
        #expect(metrics.text.contains("starling_model_version 1"))
        #expect(metrics.text.contains("starling_events_ingested_total 51"))
        #expect(metrics.text.contains("starling_http_request_duration_seconds_bucket"))
    }

    @Test("fuzz: thousands of random bodies never crash the server or get a 5xx")
    func fuzz() async throws {
        let live = try await LiveServer(maxBodyBytes: 8192).start()
        defer { Task { await live.stop() } }
        let routes = [("POST", "/events"), ("POST", "/rank"), ("POST", "/items"), ("PATCH", "/items/50"), ("POST", "/users"),
                      ("POST", "/experiments"), ("POST", "/models"), ("PATCH", "/users/1"), ("GET", "/recommend/1?k=%ZZ&session=,,,")]
        let fragments = ["{", "}", "[", "]", "\"user\"", "\"item\"", ":", ",", "\"50\"", "1e999", "-1", "null", "true", "\"type\"",
                         "\"\\u0000\"", "\"items\"", "\"arms\"", "0", "\"id\"", "\u{FFFD}", "\"value\"", "NaN", "\"timestamp\""]
        let statuses = try await live.http { client -> [Int] in
            var rng = SystemRandomNumberGenerator()
            var out: [Int] = []
            for n in 0..<3000 {
                let (method, path) = routes[n % routes.count]
                var body = ""
                for _ in 0..<Int.random(in: 0...24, using: &rng) { body += fragments.randomElement(using: &rng)! }
                if n % 10 == 0 { body = String((0..<Int.random(in: 1...64, using: &rng)).map { _ in Character(UnicodeScalar(UInt8.random(in: 0...255, using: &rng))) }) }
                out.append(try client.request(method, path, body: Data(body.utf8)).status)
            }
            return out
        }
        #expect(statuses.allSatisfy { $0 < 500 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        let r = try await live.call("GET", "/recommend/196?k=10")
        #expect(r.status == 200 && Self.ids(r).count == 10)
    }
}

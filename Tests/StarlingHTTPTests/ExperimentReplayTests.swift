import Foundation
import StarlingLoopbackClient
import StarlingServe
import Testing

/// Online experiments replayed on MovieLens-100K: 20% of each user's ratings are kept out of the
/// service, and a user "clicks" a recommended item exactly when it is one of their held-out ratings.
@Suite("A/B guardrails on replayed MovieLens-100K", .serialized)
struct ExperimentReplayTests {
    /// One pass over `users`: recommend, click what the user really rated later, and let the
    /// guardrail look every 50 users. Returns the experiment the guardrail ended, if any.
    static func replay(_ live: LiveServer, users: [String]) async throws -> Experiment? {
        for (n, user) in users.enumerated() {
            let r = try await live.call("GET", "/recommend/\(user)?k=10")
            #expect(r.status == 200)
            let shown = (r.json?["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
            let clicks = shown.filter { live.heldOut[user]?.contains($0) == true }
            if !clicks.isEmpty {
                let e = try await live.call("POST", "/events", json: clicks.map { ["user": user, "item": $0, "type": "click"] })
                #expect(e.status == 200 || e.status == 201, "\(e.text)")
            }
            if n % 50 == 49, let ended = try live.service.enforceGuardrails() { return ended }
        }
        return try live.service.enforceGuardrails()
    }

    @Test("A/A runs on; a worse candidate model is stopped by the guardrail and rolled back")
    func guardrailRollsBackAWorseCandidate() async throws {
        let live = try await LiveServer(holdOut: 0.2).start()
        defer { Task { await live.stop() } }
        let all = live.heldOut.keys.sorted()
        #expect(all.count > 900)
        // Disjoint halves, so that the A/A test's clicks do not use up the A/B test's held-out items.
        let aaUsers = all.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        let users = all.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)

        // A/A: the active model (version 1) against itself never trips the guardrail.
        let aa = try await live.call("POST", "/experiments", json: ["id": "aa", "arms": [["name": "control", "version": 1], ["name": "copy", "version": 1]],
                                                                   "guardrail": ["min_impressions": 1000]])
        #expect(aa.status == 201, "\(aa.text)")
        #expect((aa.json?["guardrail"] as? [String: Any])?["alpha"] as? Double == 0.01)
        for _ in 0..<3 { #expect(try await Self.replay(live, users: aaUsers) == nil, "the A/A experiment was stopped") }
        let aaState = try await live.call("GET", "/experiments/aa")
        #expect(aaState.json?["status"] as? String == "running")
        #expect((aaState.json?["looks"] as? Int ?? 0) >= 3, "\(aaState.text)")
        #expect(try await live.call("POST", "/experiments/aa/stop").status == 200)

        // The candidate: a one-factor model (close to popularity), promoted as a canary.
        let published = try await live.call("POST", "/models/retrain", json: ["factors": 1, "iterations": 2, "promote": true])
        #expect(published.status == 201, "\(published.text)")
        let candidate = try #require(published.json?["version"] as? Int)
        #expect(live.service.registry.activeVersion == candidate)
        let ab = try await live.call("POST", "/experiments", json: ["id": "canary", "arms": [["name": "control", "version": 1],
                                                                                             ["name": "candidate", "version": candidate]],
                                                                   "guardrail": ["min_impressions": 1000]])
        #expect(ab.status == 201, "\(ab.text)")
        var ended: Experiment?
        for _ in 0..<4 where ended == nil { ended = try await Self.replay(live, users: users) }
        let state = try await live.call("GET", "/experiments/canary").text
        let experiment = try #require(ended, "the guardrail never stopped the worse candidate: \(state)")
        let results = experiment.results
        #expect(results[1].ctr < results[0].ctr)
        let conclusion = experiment.conclusion ?? ""
        #expect(conclusion.contains("'candidate'") && conclusion.contains("did worse") && conclusion.contains("rolled back to version 1"), "\(conclusion)")
        print("guardrail replay: \(conclusion)")
        // The rollback took: version 1 serves again, and the API shows why the experiment ended.
        #expect(live.service.registry.activeVersion == 1)
        let models = try await live.call("GET", "/models")
        #expect(models.json?["active"] as? Int == 1)
        let shown = try await live.call("GET", "/experiments/canary")
        #expect(shown.json?["status"] as? String == "stopped")
        #expect(shown.json?["conclusion"] as? String == conclusion)
        let r = try await live.call("GET", "/recommend/\(users[0])?k=5")
        #expect(r.json?["model_version"] as? Int == 1 && r.json?["experiment"] == nil)
    }
}

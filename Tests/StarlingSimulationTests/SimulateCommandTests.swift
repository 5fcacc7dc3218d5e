import Foundation
import StarlingTestSupport
import Testing

/// End-to-end: `starling simulate` on a tiny world, two seeds, against in-process servers it
/// starts itself; the printed JSON object has the keys the issue asks for, with values in range.
@Suite("starling simulate")
struct SimulateCommandTests {
    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = StarlingExecutable.url
        process.arguments = arguments
        // Progress goes to a file, so that neither pipe can fill up and stall the child.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("starling-simulate-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe(), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    @Test func aTinySimulationReportsEveryRequiredKey() throws {
        let binary = StarlingExecutable.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "starling binary not found at \(binary.path)")
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("starling-simulate-\(UUID().uuidString).svg")
        defer { try? FileManager.default.removeItem(at: svg) }
        let result = try run(["simulate", "--json", "--users", "80", "--items", "120", "--warm-up", "3", "--rounds", "6", "--window", "3",
                              "--seeds", "5,6", "--factors", "8", "--iterations", "4", "--probe-every", "3", "--probe-users", "2",
                              "--probe-timeout-ms", "400", "--round-ms", "20", "--svg", svg.path])
        #expect(result.status == 0, "simulate failed: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "stdout is not one JSON object: \(result.stdout.prefix(500))")
        for key in ["ctr_frozen", "ctr_online", "ctr_gain", "freshness_ms", "conversion_frozen", "conversion_online", "rounds", "users",
                    "items", "seed", "curve", "ctr_gain_mean", "ctr_gain_std", "runs"] {
            #expect(object[key] != nil, "missing key \(key)")
        }
        #expect(object["rounds"] as? Int == 6 && object["users"] as? Int == 80 && object["items"] as? Int == 120)
        #expect(object["seeds"] as? [Int] == [5, 6])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.count == 2)
        for run in runs {
            let ctrFrozen = try #require(run["ctr_frozen"] as? Double), ctrOnline = try #require(run["ctr_online"] as? Double)
            let convFrozen = try #require(run["conversion_frozen"] as? Double), convOnline = try #require(run["conversion_online"] as? Double)
            #expect(ctrFrozen > 0 && ctrFrozen < 1 && ctrOnline > 0 && ctrOnline < 1)
            #expect(convFrozen >= 0 && convFrozen <= ctrFrozen && convOnline >= 0 && convOnline <= ctrOnline)
            let gain = try #require(run["ctr_gain"] as? Double)
            #expect(abs(gain - (ctrOnline / ctrFrozen - 1)) < 1e-3)
            // 8 visitors a round (a tenth of 80 users), k = 10, 6 rounds, and every list full.
            let counts = try #require(run["counts"] as? [String: [String: Int]])
            #expect(counts["frozen"]?["impressions"] == 480 && counts["online"]?["impressions"] == 480)
            // The model-less service has nothing to recommend before the first events (round 0).
            #expect(counts["warm_up"]?["impressions"].map { $0 > 0 && $0 <= 240 } == true)
            let curve = try #require(run["curve"] as? [String: Any])
            #expect((curve["ctr_frozen"] as? [Double])?.count == 2 && (curve["ctr_online"] as? [Double])?.count == 2)
            #expect(curve["round_from"] as? [Int] == [3, 6])
            // Both arms start from the model trained after the warm-up; without the online learner
            // neither publishes another.
            let models = try #require(run["models"] as? [String: [String: Any]])
            let first = try #require((run["warm_up_model"] as? [String: Any])?["version"] as? Int)
            #expect(models["frozen"]?["active_at_end"] as? Int == first)
            #expect((models["online"]?["active_at_end"] as? Int).map { $0 >= first } == true)
            // Freshness: probes in rounds 1 and 4 of each arm; measured ones are within the timeout.
            let freshness = try #require(run["freshness"] as? [String: [String: Any]])
            for arm in ["online", "frozen"] {
                let f = try #require(freshness[arm])
                #expect((f["probes"] as? Int ?? 0) > 0, "no freshness probe in the \(arm) arm")
                if let p95 = f["p95_ms"] as? Double { #expect(p95 >= 0 && p95 <= 400 + 100) }
                let share = try #require(f["changed_share"] as? Double)
                #expect(share >= 0 && share <= 1)
            }
            if let p95 = run["freshness_ms"] as? Double { #expect(p95 >= 0 && p95 <= 500) }
            #expect((run["items_at_end"] as? Int ?? 0) > 120)
        }
        if let std = object["ctr_gain_std"] as? Double { #expect(std >= 0) } else { Issue.record("ctr_gain_std is not a number") }
        // Until the online learner is wired in, the arms are configured alike and their users share
        // their dice: identical counts, a gain of exactly 0.
        if object["online_learner_wired"] as? Bool == false {
            for run in runs {
                let counts = run["counts"] as? [String: [String: Int]]
                #expect(counts?["frozen"] == counts?["online"])
                #expect(run["ctr_gain"] as? Double == 0)
            }
        }
        // The same seed again, alone: the same run (the service's lists depend on the events only).
        let again = try run(["simulate", "--json", "--users", "80", "--items", "120", "--warm-up", "3", "--rounds", "6", "--window", "3",
                             "--seed", "5", "--factors", "8", "--iterations", "4", "--probe-every", "3", "--probe-users", "2",
                             "--probe-timeout-ms", "400", "--round-ms", "20"])
        #expect(again.status == 0, "simulate failed: \(again.stderr)")
        let single = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(single["seed"] as? Int == 5 && single["runs"] == nil)
        #expect(single["counts"] as? [String: [String: Int]] == runs[0]["counts"] as? [String: [String: Int]])
        #expect(single["ctr_frozen"] as? Double == runs[0]["ctr_frozen"] as? Double)
        let chart = try String(contentsOf: svg, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("frozen arm") && chart.contains("online arm"))
    }

    @Test func badOptionsAreRefused() throws {
        let binary = StarlingExecutable.url
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "starling binary not found at \(binary.path)")
        let result = try run(["simulate", "--seeds", "1,x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--seeds"))
    }
}

import Foundation
import StarlingEval
import StarlingSimulation

/// The JSON object, text summary and SVG chart of `simulate`, from the outcomes of one or more
/// seeds. Rates: CTR = clicks on recommended items / recommended items shown, conversion =
/// purchases / recommended items shown, both over the main phase (after the warm-up);
/// `ctr_gain` = ctr_online / ctr_frozen − 1.
enum SimulationReport {
    // MARK: one seed

    /// The report of one seed.
    static func json(_ o: SimulationOutcome) -> [String: Any] {
        let s = o.settings
        let f = o.frozen.tally.total, n = o.online.tally.total
        var out: [String: Any] = [
            "seed": Int(s.world.seed), "users": s.world.users, "items": s.world.items, "items_at_end": o.itemsAtEnd,
            "rounds": s.rounds, "warm_up_rounds": s.warmUpRounds, "k": s.k, "window": s.window,
            "event_seconds_per_round": Double(s.world.roundMs) / 1000,
            "ctr_frozen": number(f.ctr), "ctr_online": number(n.ctr), "ctr_gain": number(gain(n.ctr, f.ctr)),
            "conversion_frozen": number(f.conversion), "conversion_online": number(n.conversion),
            "conversion_gain": number(gain(n.conversion, f.conversion)),
            "ctr_warm_up": number(o.warmUp.total.ctr), "conversion_warm_up": number(o.warmUp.total.conversion),
            "counts": ["frozen": counts(f), "online": counts(n), "warm_up": counts(o.warmUp.total)],
            "freshness_ms": number(freshness(o.online.probes).p95),
            "freshness": ["online": freshnessJSON(o.online.probes, s), "frozen": freshnessJSON(o.frozen.probes, s)],
            "curve": curve(frozen: o.frozen.tally, online: o.online.tally, window: s.window),
            "warm_up_curve": curve(o.warmUp, window: s.window),
            "models": ["frozen": models(o.frozen, first: o.warmUpModel), "online": models(o.online, first: o.warmUpModel)],
            "warm_up_model": ["version": o.warmUpModel, "metadata": o.warmUpModelMetadata,
                              "training": "iALS \(s.factors) factors, \(s.iterations) iterations, regularization \(s.regularization), alpha \(s.alpha)"]
                as [String: Any],
            "world": ["taste_cosine_round0_to_end": o.tasteCosine.rounded(to: 4), "users_shifted": o.usersShifted.rounded(to: 4),
                      "new_items": o.itemsAtEnd - s.world.items, "latent_dimension": s.world.dimension, "categories": s.world.categories,
                      "visitors_per_round": s.world.visitorsPerRound, "organic_views_per_visitor": s.world.organicViews] as [String: Any],
            "online_learner_wired": o.armsDiffer,
            "seconds": o.seconds.mapValues { $0.rounded(to: 2) },
        ]
        if s.retrainOnlineEvery > 0 {
            out["online_arm_retrained_every_rounds"] = s.retrainOnlineEvery
        }
        out["online_ranker"] = o.online.ranker.map { r in r.mapValues { number($0, digits: 4) } as Any } ?? NSNull()
        if let note = note(online: o.armsDiffer, retrainEvery: s.retrainOnlineEvery) { out["note"] = note }
        return out
    }

    /// What the online arm is, when it is not (only) the online learner.
    static func note(online wired: Bool, retrainEvery: Int) -> String? {
        switch (wired, retrainEvery > 0) {
        case (false, false):
            return "the online arm runs the same service configuration as the frozen arm (the online learner is not wired in yet): "
                + "any difference between the arms is noise"
        case (false, true):
            return "the online learner is not wired in yet: the online arm differs from the frozen arm only by a full retrain and promotion "
                + "every \(retrainEvery) rounds (--retrain-online-every), which is periodic batch retraining, not online learning"
        case (true, true):
            return "the online arm also gets a full retrain and promotion every \(retrainEvery) rounds (--retrain-online-every)"
        case (true, false):
            return nil
        }
    }

    static func gain(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, b > 0 else { return nil }
        return a / b - 1
    }

    /// A rate rounded for the report, or null.
    static func number(_ v: Double?, digits: Int = 5) -> Any {
        guard let v, v.isFinite else { return NSNull() }
        return v.rounded(to: digits)
    }

    static func counts(_ w: EngagementTally.Window) -> [String: Int] {
        ["impressions": w.impressions, "clicks": w.clicks, "purchases": w.purchases]
    }

    /// Percentiles of the probes whose list changed in time, and the share that did.
    static func freshness(_ probes: [SimulationArm.ProbeResult]) -> (p50: Double?, p95: Double?, changed: Int) {
        let times = probes.compactMap(\.changedAfterMs)
        return (SampleStatistics.percentile(times, 50), SampleStatistics.percentile(times, 95), times.count)
    }

    static func freshnessJSON(_ probes: [SimulationArm.ProbeResult], _ s: SimulationSettings) -> [String: Any] {
        let f = freshness(probes)
        return ["probes": probes.count, "changed": f.changed,
                "changed_share": number(probes.isEmpty ? nil : Double(f.changed) / Double(probes.count), digits: 4),
                "p50_ms": number(f.p50, digits: 2), "p95_ms": number(f.p95, digits: 2),
                "timeout_ms": s.probing.timeoutMs, "poll_ms": s.probing.pollMs,
                "measured": "click sent alone, then GET /recommend polled until the first k-1 items differ from the previous list without the clicked item; "
                    + "milliseconds from sending the click; percentiles over the probes that changed within the timeout"]
    }

    static func curve(frozen: EngagementTally, online: EngagementTally, window: Int) -> [String: Any] {
        let f = frozen.windows(of: window), n = online.windows(of: window)
        return ["round_from": f.map(\.firstRound), "round_to": f.map(\.lastRound),
                "ctr_frozen": f.map { number($0.ctr) }, "ctr_online": n.map { number($0.ctr) },
                "conversion_frozen": f.map { number($0.conversion) }, "conversion_online": n.map { number($0.conversion) }]
    }

    static func curve(_ tally: EngagementTally, window: Int) -> [String: Any] {
        let w = tally.windows(of: window)
        return ["round_from": w.map(\.firstRound), "round_to": w.map(\.lastRound),
                "ctr": w.map { number($0.ctr) }, "conversion": w.map { number($0.conversion) }]
    }

    /// Model versions of an arm: listed at the end, published after the warm-up's version (the
    /// registry numbers versions consecutively, so the newest number tells even when old ones were
    /// pruned), active after each window, and how many times the active version changed.
    static func models(_ arm: ArmOutcome, first: Int) -> [String: Any] {
        var changes = 0, previous: Int? = first
        for v in arm.activeVersions where v != previous { changes += 1; previous = v }
        return ["active_at_end": arm.finalActive.map { $0 as Any } ?? NSNull(), "versions_listed": arm.versions,
                "published_after_warm_up": max(0, (arm.versions.max() ?? first) - first),
                "active_by_window": arm.activeVersions.map { $0.map { $0 as Any } ?? NSNull() },
                "active_changes": changes]
    }

    // MARK: several seeds

    /// The printed object: one seed's report, or for several seeds the means (and the spread of
    /// the gain) over seeds with every seed's report under `runs`.
    static func json(_ outcomes: [SimulationOutcome]) -> [String: Any] {
        var runs = outcomes.map(json)
        let gains = outcomes.compactMap { gain($0.online.tally.total.ctr, $0.frozen.tally.total.ctr) }
        if outcomes.count == 1 {
            var one = runs[0]
            one["ctr_gain_mean"] = number(SampleStatistics.mean(gains))
            one["ctr_gain_std"] = NSNull()
            return one
        }
        func mean(_ key: (SimulationOutcome) -> Double?) -> Any { number(SampleStatistics.mean(outcomes.compactMap(key))) }
        let first = outcomes[0].settings
        let online = outcomes.flatMap(\.online.probes), frozen = outcomes.flatMap(\.frozen.probes)
        for k in runs.indices { runs[k]["warm_up_curve"] = nil }
        var out: [String: Any] = [
            "seeds": outcomes.map { Int($0.settings.world.seed) }, "seed": Int(first.world.seed),
            "users": first.world.users, "items": first.world.items, "rounds": first.rounds, "warm_up_rounds": first.warmUpRounds,
            "k": first.k, "window": first.window,
            "ctr_frozen": mean { $0.frozen.tally.total.ctr }, "ctr_online": mean { $0.online.tally.total.ctr },
            "conversion_frozen": mean { $0.frozen.tally.total.conversion }, "conversion_online": mean { $0.online.tally.total.conversion },
            "ctr_warm_up": mean { $0.warmUp.total.ctr },
            "ctr_gain": number(SampleStatistics.mean(gains)), "ctr_gain_mean": number(SampleStatistics.mean(gains)),
            "ctr_gain_std": number(SampleStatistics.standardDeviation(gains)), "ctr_gain_per_seed": gains.map { number($0) },
            "freshness_ms": number(freshness(online).p95),
            "freshness": ["online": freshnessJSON(online, first), "frozen": freshnessJSON(frozen, first),
                          "pooled": "probes of every seed together"] as [String: Any],
            "curve": meanCurve(outcomes),
            "online_learner_wired": outcomes.allSatisfy(\.armsDiffer),
            "seconds": ["total": outcomes.reduce(0) { $0 + ($1.seconds["total"] ?? 0) }.rounded(to: 2)],
            "runs": runs,
        ]
        if let note = note(online: outcomes.allSatisfy(\.armsDiffer), retrainEvery: first.retrainOnlineEvery) { out["note"] = note }
        return out
    }

    /// Per-window CTR and conversion averaged over seeds (every seed has the same windows).
    static func meanCurve(_ outcomes: [SimulationOutcome]) -> [String: Any] {
        let window = outcomes[0].settings.window
        let f = outcomes.map { $0.frozen.tally.windows(of: window) }, n = outcomes.map { $0.online.tally.windows(of: window) }
        let count = f.map(\.count).min() ?? 0
        func mean(_ arms: [[EngagementTally.Window]], _ rate: (EngagementTally.Window) -> Double?) -> [Any] {
            (0..<count).map { w in number(SampleStatistics.mean(arms.compactMap { rate($0[w]) })) }
        }
        return ["round_from": f[0].prefix(count).map(\.firstRound), "round_to": f[0].prefix(count).map(\.lastRound),
                "ctr_frozen": mean(f, \.ctr), "ctr_online": mean(n, \.ctr),
                "conversion_frozen": mean(f, \.conversion), "conversion_online": mean(n, \.conversion)]
    }

    // MARK: chart and text

    /// CTR per window over rounds: the warm-up (no model), then the frozen and online arms
    /// (means over seeds).
    static func chart(_ outcomes: [SimulationOutcome]) -> LineChart {
        let s = outcomes[0].settings
        func series(_ tallies: [EngagementTally]) -> [(x: Double, y: Double)] {
            let windows = tallies.map { $0.windows(of: s.window) }
            let count = windows.map(\.count).min() ?? 0
            return (0..<count).compactMap { w in
                SampleStatistics.mean(windows.compactMap { $0[w].ctr }).map { (x: Double(windows[0][w].lastRound + 1), y: $0) }
            }
        }
        let seeds = outcomes.map { String($0.settings.world.seed) }.joined(separator: ", ")
        let retrain = s.retrainOnlineEvery
        let online = outcomes.allSatisfy(\.armsDiffer)
            ? (retrain > 0 ? "online arm: online learning + retrain every \(retrain) rounds" : "online arm: online learning")
            : (retrain > 0 ? "online arm: retrain every \(retrain) rounds" : "online arm (= frozen: learner not wired)")
        return LineChart(
            title: "CTR per \(s.window)-round window, k = \(s.k), seed\(outcomes.count > 1 ? "s" : "") \(seeds)",
            xLabel: "round (\(s.world.roundMs / 1000) s of event time each)", yLabel: "CTR (clicks / recommended items)",
            series: [LineChart.Series(name: "warm-up: no model", points: series(outcomes.map(\.warmUp)), dashed: true),
                     LineChart.Series(name: "frozen arm", points: series(outcomes.map(\.frozen.tally))),
                     LineChart.Series(name: online, points: series(outcomes.map(\.online.tally)))])
    }

    /// A few lines for people.
    static func text(_ outcomes: [SimulationOutcome]) -> String {
        var lines: [String] = []
        for o in outcomes {
            let f = o.frozen.tally.total, n = o.online.tally.total
            let fresh = freshness(o.online.probes), freshFrozen = freshness(o.frozen.probes)
            lines.append("seed \(o.settings.world.seed): CTR frozen \(SimulationRun.format(f.ctr)), online \(SimulationRun.format(n.ctr)), "
                + "gain \(gain(n.ctr, f.ctr).map { String(format: "%+.1f%%", $0 * 100) } ?? "–"); conversion frozen "
                + "\(SimulationRun.format(f.conversion)), online \(SimulationRun.format(n.conversion)); warm-up CTR (no model) "
                + "\(SimulationRun.format(o.warmUp.total.ctr)); freshness p95 online \(fresh.p95.map { String(format: "%.1f ms", $0) } ?? "–") "
                + "(\(fresh.changed)/\(o.online.probes.count) changed), frozen \(freshFrozen.p95.map { String(format: "%.1f ms", $0) } ?? "–") "
                + "(\(freshFrozen.changed)/\(o.frozen.probes.count)); \(String(format: "%.0f", o.seconds["total"] ?? 0)) s")
        }
        let gains = outcomes.compactMap { gain($0.online.tally.total.ctr, $0.frozen.tally.total.ctr) }
        if gains.count > 1, let m = SampleStatistics.mean(gains), let sd = SampleStatistics.standardDeviation(gains) {
            lines.append(String(format: "CTR gain over %d seeds: mean %+.2f%%, standard deviation %.2f%%", gains.count, m * 100, sd * 100))
        }
        if let note = note(online: outcomes.allSatisfy(\.armsDiffer), retrainEvery: outcomes[0].settings.retrainOnlineEvery) {
            lines.append("note: " + note)
        }
        lines.append("(--json for the full report)")
        return lines.joined(separator: "\n")
    }
}

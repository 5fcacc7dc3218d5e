import Foundation
import Synchronization

/// The A/B experiments: which arm serves a user, and the impressions, clicks and purchases each
/// arm earns. A click or purchase counts for an arm when its item was in the latest list that arm
/// showed the user. Counters live in memory and are written to the catalogue by ``flush(to:)``
/// (the service does so every few seconds and on shutdown).
public final class ExperimentBook: Sendable {
    private struct Shown {
        var experiment: String
        var arm: Int
        var items: Set<String>
    }
    private struct State {
        var experiments: [Experiment] = []
        var shown: [String: Shown] = [:]
        var dirty: Set<String> = []
    }
    private let state: Mutex<State>
    /// Users whose latest list is remembered for attribution; the oldest half is dropped beyond it.
    static let shownCapacity = 200_000

    public init(experiments: [Experiment]) {
        state = Mutex(State(experiments: experiments))
    }

    public var all: [Experiment] { state.withLock { $0.experiments } }

    public func experiment(_ id: String) -> Experiment? { state.withLock { s in s.experiments.first { $0.id == id } } }

    /// The running experiment, if any (one runs at a time).
    public var running: Experiment? { state.withLock { s in s.experiments.first { $0.status == .running } } }

    /// Adds and starts `experiment`; a conflict if another is running or the id is taken.
    public func start(_ experiment: Experiment) throws(ServiceError) {
        try experiment.validate()
        try state.withLock { s throws(ServiceError) in
            if let r = s.experiments.first(where: { $0.status == .running }) {
                throw .conflict("experiment '\(r.id)' is running; stop it before starting another")
            }
            guard !s.experiments.contains(where: { $0.id == experiment.id }) else {
                throw .conflict("experiment '\(experiment.id)' already exists")
            }
            s.experiments.append(experiment)
            s.dirty.insert(experiment.id)
        }
    }

    /// Stops experiment `id`; returns it.
    public func stop(_ id: String, at now: Int64) throws(ServiceError) -> Experiment {
        try state.withLock { s throws(ServiceError) in
            guard let k = s.experiments.firstIndex(where: { $0.id == id }) else { throw .notFound("experiment '\(id)' does not exist") }
            guard s.experiments[k].status == .running else { throw .conflict("experiment '\(id)' is already stopped") }
            s.experiments[k].status = .stopped
            s.experiments[k].stopped = now
            s.dirty.insert(id)
            return s.experiments[k]
        }
    }

    /// Takes a guardrail look at the running experiment; when it decides, stops the experiment
    /// with `conclusion(decision)` and returns it with the decision.
    public func look(at now: Int64, conclusion: (Experiment, Experiment.Decision) -> String) -> (Experiment, Experiment.Decision)? {
        state.withLock { s in
            guard let k = s.experiments.firstIndex(where: { $0.status == .running }) else { return nil }
            let before = s.experiments[k].looks
            let decision = s.experiments[k].look()
            if s.experiments[k].looks != before { s.dirty.insert(s.experiments[k].id) }
            guard let decision else { return nil }
            s.experiments[k].status = .stopped
            s.experiments[k].stopped = now
            s.experiments[k].conclusion = conclusion(s.experiments[k], decision)
            return (s.experiments[k], decision)
        }
    }

    /// Records that `arm` of `experiment` showed `items` to `user`.
    public func recordImpressions(experiment: String, arm: Int, user: String, items: [String]) {
        state.withLock { s in
            guard let k = s.experiments.firstIndex(where: { $0.id == experiment }) else { return }
            s.experiments[k].arms[arm].impressions += items.count
            s.dirty.insert(experiment)
            if s.shown.count >= Self.shownCapacity { s.shown = [:] }
            s.shown[user] = Shown(experiment: experiment, arm: arm, items: Set(items))
        }
    }

    /// Credits clicks and purchases on shown items to the arm that showed them.
    public func recordOutcome(user: String, item: String, isPurchase: Bool) {
        state.withLock { s in
            guard let shown = s.shown[user], shown.items.contains(item),
                  let k = s.experiments.firstIndex(where: { $0.id == shown.experiment && $0.status == .running }) else { return }
            if isPurchase { s.experiments[k].arms[shown.arm].purchases += 1 } else { s.experiments[k].arms[shown.arm].clicks += 1 }
            s.dirty.insert(shown.experiment)
        }
    }

    /// Writes changed experiments to `catalogue`.
    public func flush(to catalogue: Catalogue) throws {
        let changed = state.withLock { s -> [Experiment] in
            let c = s.experiments.filter { s.dirty.contains($0.id) }
            s.dirty = []
            return c
        }
        for e in changed { try catalogue.saveExperiment(e) }
    }
}

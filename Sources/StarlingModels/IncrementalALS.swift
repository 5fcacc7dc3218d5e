import Foundation
import StarlingTensor

/// iALS kept up to date on a stream of interactions, one mini-batch at a time.
///
/// After each batch only the rows it touched are re-solved: first every touched user with the
/// item factors fixed, then every touched item with the user factors fixed, each by
/// `cgSteps` conjugate-gradient steps warm-started from the row's current vector on the same
/// objective as ``IALS`` (confidence `1 + α·v`, L2 penalty λ). This is the local re-solve of the
/// incremental iALS update (He et al., "Fast Matrix Factorization for Online Recommendation with
/// Implicit Feedback", SIGIR 2016), with conjugate gradient in place of their element-wise
/// coordinate descent. The Gramians `XᵀX` and `YᵀY` that every row solve needs are kept up to date
/// with a rank-2 correction per changed row and recomputed exactly every `gramRefreshBatches`
/// batches (float round-off would otherwise accumulate), so a batch costs time in proportion to
/// the interactions of the rows it touches, not to the number of users or items.
///
/// Ids are strings, as they arrive on the stream:
/// - a new user gets a row on first sight (a row freed by an expired user is reused);
/// - an unseen item is admitted — given a row — once `admitAfter` events have named it within
///   `pendingTTLMs` of each other, so one stray id does not grow the model; the events seen
///   before admission count once it is admitted;
/// - a user with no event for `userTTLMs` (event time) is expired by ``expire(nowMs:)``: their
///   interactions leave the item rows and their row is freed.
///
/// ``snapshot()`` copies the factors into an ``IALS`` model (the user factors are the trainer's
/// own; serving folds users in from their history), which is what a published version holds.
/// One writer: calls must not overlap.
public final class IncrementalALS: @unchecked Sendable {
    /// Hyper-parameters of the incremental updates.
    public struct Configuration: Sendable, Equatable {
        /// λ, the L2 penalty (as in ``IALS/Configuration``).
        public var regularization: Float
        /// α in the confidence `1 + α·v`.
        public var alpha: Float
        /// Conjugate-gradient steps per touched row and batch.
        public var cgSteps: Int
        /// Events naming an unseen item before it gets a row.
        public var admitAfter: Int
        /// How long an unadmitted item's events wait for the next one (event time, ms).
        public var pendingTTLMs: Int64
        /// Users silent this long (event time, ms) are expired; nil: never.
        public var userTTLMs: Int64?
        /// Batches between exact recomputations of the Gramians.
        public var gramRefreshBatches: Int
        public init(regularization: Float = 0.05, alpha: Float = 5, cgSteps: Int = 3, admitAfter: Int = 3,
                    pendingTTLMs: Int64 = 86_400_000, userTTLMs: Int64? = 30 * 86_400_000, gramRefreshBatches: Int = 50) {
            self.regularization = regularization
            self.alpha = alpha
            self.cgSteps = cgSteps
            self.admitAfter = admitAfter
            self.pendingTTLMs = pendingTTLMs
            self.userTTLMs = userTTLMs
            self.gramRefreshBatches = gramRefreshBatches
        }

        func validate() throws(ModelError) {
            guard regularization >= 0, regularization.isFinite else { throw .invalidArgument("incremental iALS: regularization must be ≥ 0, got \(regularization)") }
            guard alpha >= 0, alpha.isFinite else { throw .invalidArgument("incremental iALS: alpha must be ≥ 0, got \(alpha)") }
            guard cgSteps >= 1 else { throw .invalidArgument("incremental iALS: cgSteps must be ≥ 1, got \(cgSteps)") }
            guard admitAfter >= 1 else { throw .invalidArgument("incremental iALS: admitAfter must be ≥ 1, got \(admitAfter)") }
            guard gramRefreshBatches >= 1 else { throw .invalidArgument("incremental iALS: gramRefreshBatches must be ≥ 1, got \(gramRefreshBatches)") }
        }
    }

    /// One interaction from the stream.
    public struct Interaction: Sendable, Equatable {
        public var user: String
        public var item: String
        /// The interaction's strength (confidence `1 + α·value`); repeated pairs add up.
        public var value: Float
        public var timestampMs: Int64

        public init(user: String, item: String, value: Float = 1, timestampMs: Int64) {
            self.user = user
            self.item = item
            self.value = value
            self.timestampMs = timestampMs
        }
    }

    /// What one ``update(_:)`` did.
    public struct BatchReport: Sendable, Equatable {
        public var interactions = 0
        public var newUsers = 0
        public var admittedItems = 0
        /// Events on items not admitted yet (held until admission).
        public var pendingEvents = 0
        public var usersSolved = 0
        public var itemsSolved = 0
    }

    /// A user's or item's interactions: the other side's rows and summed values.
    struct InteractionRow {
        var ids: [Int32] = []
        var values: [Float] = []

        mutating func add(_ id: Int32, _ value: Float) {
            if let k = ids.firstIndex(of: id) { values[k] += value } else { ids.append(id); values.append(value) }
        }

        mutating func remove(_ id: Int32) {
            guard let k = ids.firstIndex(of: id) else { return }
            ids.swapAt(k, ids.count - 1); ids.removeLast()
            values.swapAt(k, values.count - 1); values.removeLast()
        }
    }

    struct Pending {
        var events: [(user: Int32, value: Float)] = []
        var lastSeen: Int64 = 0
    }

    public let factors: Int
    public let configuration: Configuration
    /// Model item row → external id.
    public private(set) var itemIds: [String]
    private var itemIndex: [String: Int32]
    private var userIndex: [String: Int32] = [:]
    private var userIdOfRow: [String?] = []
    private var freeUserRows: [Int32] = []
    let users: FactorTable
    let items: FactorTable
    private var userRows: [InteractionRow] = []
    private var itemRows: [InteractionRow]
    private var userLastSeen: [Int64] = []
    private var pending: [String: Pending] = [:]
    /// `XᵀX` and `YᵀY` without λ.
    private var userGram: [Float]
    private var itemGram: [Float]
    /// `YᵀY + λI`, made on first need after the item factors changed (fold-ins and user solves share it).
    private var itemSystem: [Float]?
    private var batches = 0
    private var scratch: [Float]
    private var weights: [Float] = []
    private var targets: [Float] = []

    /// A trainer starting from `base`'s item factors; `itemIds` are its items' external ids. Users
    /// start empty: add their past interactions with ``load(_:)``.
    public init(base: IALS, itemIds: [String], configuration: Configuration = Configuration()) throws(ModelError) {
        try configuration.validate()
        guard itemIds.count == base.itemCount else {
            throw .invalidArgument("incremental iALS: \(itemIds.count) item ids for a model of \(base.itemCount) items")
        }
        factors = base.factors
        self.configuration = configuration
        self.itemIds = itemIds
        var index: [String: Int32] = [:]
        index.reserveCapacity(itemIds.count)
        for (k, id) in itemIds.enumerated() {
            guard index.updateValue(Int32(k), forKey: id) == nil else { throw .invalidArgument("incremental iALS: item id '\(id)' appears twice") }
        }
        itemIndex = index
        items = FactorTable(base.items.tensor)
        users = FactorTable(rows: 0, width: base.factors)
        itemRows = Array(repeating: InteractionRow(), count: itemIds.count)
        userGram = []
        itemGram = []
        scratch = [Float](repeating: 0, count: 3 * base.factors)
        refreshGrams()
    }

    // MARK: state

    /// Users with a row.
    public var userCount: Int { userIndex.count }
    /// Items with a row.
    public var itemCount: Int { items.rows }
    /// Unseen items waiting for admission.
    public var pendingItemCount: Int { pending.count }
    /// The row of item `id`, if admitted.
    public func itemRow(_ id: String) -> Int32? { itemIndex[id] }

    /// `user`'s interactions: item rows and summed values (empty for an unknown user).
    public func history(of user: String) -> (items: [Int32], values: [Float]) {
        guard let u = userIndex[user] else { return ([], []) }
        return (userRows[Int(u)].ids, userRows[Int(u)].values)
    }

    /// The trainer's current vector of `user`.
    public func userVector(of user: String) -> [Float]? { userIndex[user].map { users.copyRow(Int($0)) } }

    /// The current vector of item row `item`.
    public func itemVector(_ item: Int32) -> [Float] { items.copyRow(Int(item)) }

    /// `x_uᵀ y_i` for vector `x` and item row `item`.
    public func score(_ x: [Float], item: Int32) -> Float {
        x.withUnsafeBufferPointer { VectorKernels.dot($0.baseAddress!, items.row(Int(item)), factors) }
    }

    /// A user vector folded in from `history` (item rows, values) against the current item factors
    /// by `steps` conjugate-gradient steps from zero — the same procedure as
    /// ``IALS/userVector(history:values:solver:)`` with `.conjugateGradient(steps:start: nil)`.
    public func foldIn(items history: [Int32], values: [Float], steps: Int) -> [Float] {
        var x = [Float](repeating: 0, count: factors)
        solve(&x, row: InteractionRow(ids: history, values: values), other: items, gram: currentItemSystem(), steps: steps)
        return x
    }

    // MARK: updates

    /// Adds past interactions, then solves every user once (exactly enough conjugate-gradient
    /// steps to converge) so that item updates start from good user vectors, then the items the
    /// history admitted (they start as zero rows: left so, they would score nothing until a new
    /// event touched them). Items not admitted yet go through admission like streamed ones.
    public func load(_ history: [Interaction]) {
        var report = BatchReport()
        var touchedUsers = Set<Int32>(), touchedItems = Set<Int32>()
        let knownItems = items.rows
        add(history, report: &report, touchedUsers: &touchedUsers, touchedItems: &touchedItems)
        let steps = max(configuration.cgSteps, 2 * factors / 8)
        let g = currentItemSystem()
        for u in touchedUsers { solveRow(user: u, gram: g, steps: steps) }
        let gu = gramPlusLambda(userGram)
        for i in touchedItems where Int(i) >= knownItems { solveRow(item: i, gram: gu, steps: steps) }
        refreshGrams()
    }

    /// Learns from one mini-batch: records the interactions, admits items, then re-solves the
    /// touched users and items.
    @discardableResult
    public func update(_ batch: [Interaction]) -> BatchReport {
        var report = BatchReport()
        var touchedUsers = Set<Int32>(), touchedItems = Set<Int32>()
        add(batch, report: &report, touchedUsers: &touchedUsers, touchedItems: &touchedItems)
        let steps = configuration.cgSteps
        var g = currentItemSystem()
        for u in touchedUsers { solveRow(user: u, gram: g, steps: steps) }
        g = gramPlusLambda(userGram)
        for i in touchedItems { solveRow(item: i, gram: g, steps: steps) }
        report.usersSolved = touchedUsers.count
        report.itemsSolved = touchedItems.count
        batches += 1
        if batches % configuration.gramRefreshBatches == 0 { refreshGrams() }
        return report
    }

    private func add(_ batch: [Interaction], report: inout BatchReport, touchedUsers: inout Set<Int32>, touchedItems: inout Set<Int32>) {
        for e in batch {
            guard e.value.isFinite, e.value > 0 else { continue }
            report.interactions += 1
            let u: Int32
            if let known = userIndex[e.user] { u = known } else { u = newUserRow(e.user); report.newUsers += 1 }
            userLastSeen[Int(u)] = max(userLastSeen[Int(u)], e.timestampMs)
            if let i = itemIndex[e.item] {
                userRows[Int(u)].add(i, e.value)
                itemRows[Int(i)].add(u, e.value)
                touchedUsers.insert(u)
                touchedItems.insert(i)
                continue
            }
            var p = pending[e.item] ?? Pending()
            if e.timestampMs - p.lastSeen > configuration.pendingTTLMs { p.events.removeAll() }
            p.events.append((u, e.value))
            p.lastSeen = max(p.lastSeen, e.timestampMs)
            guard p.events.count >= configuration.admitAfter else {
                pending[e.item] = p
                report.pendingEvents += 1
                continue
            }
            pending[e.item] = nil
            let i = Int32(items.appendRow())
            itemIds.append(e.item)
            itemIndex[e.item] = i
            itemRows.append(InteractionRow())
            report.admittedItems += 1
            for (pu, value) in p.events where userIdOfRow[Int(pu)] != nil {
                userRows[Int(pu)].add(i, value)
                itemRows[Int(i)].add(pu, value)
                touchedUsers.insert(pu)
            }
            touchedItems.insert(i)
        }
    }

    private func newUserRow(_ id: String) -> Int32 {
        let u: Int32
        if let free = freeUserRows.popLast() {
            u = free
            userRows[Int(u)] = InteractionRow()
            userLastSeen[Int(u)] = .min
            userIdOfRow[Int(u)] = id
        } else {
            u = Int32(users.appendRow())
            userRows.append(InteractionRow())
            userLastSeen.append(.min)
            userIdOfRow.append(id)
        }
        userIndex[id] = u
        return u
    }

    /// Expires users silent for `userTTLMs` and pending items silent for `pendingTTLMs` before
    /// `nowMs` (event time); returns how many of each.
    @discardableResult
    public func expire(nowMs: Int64) -> (users: Int, pendingItems: Int) {
        var expiredUsers = 0
        if let ttl = configuration.userTTLMs {
            for (u, id) in userIdOfRow.enumerated() {
                guard let id, nowMs - userLastSeen[u] > ttl else { continue }
                let row = Int32(u)
                for i in userRows[u].ids { itemRows[Int(i)].remove(row) }
                let old = users.copyRow(u)
                users.row(u).update(repeating: 0, count: factors)
                rankTwoUpdate(&userGram, old: old, new: users.row(u))
                userRows[u] = InteractionRow()
                userIdOfRow[u] = nil
                userIndex[id] = nil
                freeUserRows.append(row)
                expiredUsers += 1
            }
        }
        let stale = pending.filter { nowMs - $0.value.lastSeen > configuration.pendingTTLMs }.map(\.key)
        for id in stale { pending[id] = nil }
        return (expiredUsers, stale.count)
    }

    /// Replaces the item factors with those of a freshly trained `model` (a full retrain beside
    /// the stream): its items take its vectors, items admitted here that it does not know keep
    /// theirs, then every user is re-solved against the new items.
    public func rebase(on model: IALS, itemIds newIds: [String]) throws(ModelError) {
        guard model.factors == factors else { throw .invalidArgument("incremental iALS: rebase on \(model.factors) factors, trainer has \(factors)") }
        guard newIds.count == model.itemCount else { throw .invalidArgument("incremental iALS: \(newIds.count) item ids for a model of \(model.itemCount) items") }
        for (k, id) in newIds.enumerated() {
            let i: Int32
            if let known = itemIndex[id] { i = known } else {
                i = Int32(items.appendRow())
                itemIds.append(id)
                itemIndex[id] = i
                itemRows.append(InteractionRow())
            }
            items.row(Int(i)).update(from: model.items.row(k), count: factors)
        }
        refreshGrams()
        let g = currentItemSystem()
        for u in userIndex.values { solveRow(user: u, gram: g, steps: max(configuration.cgSteps, factors / 4)) }
        refreshGrams()
    }

    /// A copy of the current factors as an ``IALS`` model with the trainer's item ids.
    public func snapshot() -> (model: IALS, itemIds: [String]) {
        let ials = IALS.Configuration(factors: factors, regularization: configuration.regularization, alpha: configuration.alpha,
                                      iterations: 0, cgSteps: configuration.cgSteps)
        return (IALS(configuration: ials, users: FactorTable(users.tensor), items: FactorTable(items.tensor)), itemIds)
    }

    // MARK: solving

    private func gramPlusLambda(_ g: [Float]) -> [Float] {
        var out = g
        for d in 0..<factors { out[d * factors + d] += configuration.regularization }
        return out
    }

    private func currentItemSystem() -> [Float] {
        if let cached = itemSystem { return cached }
        let made = gramPlusLambda(itemGram)
        itemSystem = made
        return made
    }

    private func refreshGrams() {
        itemSystem = nil
        userGram = users.gram(plusDiagonal: 0)
        itemGram = items.gram(plusDiagonal: 0)
    }

    private func solveRow(user u: Int32, gram: [Float], steps: Int) {
        solveRow(Int(u), of: users, row: userRows[Int(u)], against: items, gram: gram, steps: steps, keeping: &userGram)
    }

    private func solveRow(item i: Int32, gram: [Float], steps: Int) {
        itemSystem = nil
        solveRow(Int(i), of: items, row: itemRows[Int(i)], against: users, gram: gram, steps: steps, keeping: &itemGram)
    }

    /// Re-solves row `r` of `table` from its interactions and updates that table's Gramian.
    private func solveRow(_ r: Int, of table: FactorTable, row: InteractionRow, against other: FactorTable, gram: [Float], steps: Int,
                          keeping tableGram: inout [Float]) {
        let old = table.copyRow(r)
        var x = old
        solve(&x, row: row, other: other, gram: gram, steps: steps)
        x.withUnsafeBufferPointer { table.row(r).update(from: $0.baseAddress!, count: factors) }
        rankTwoUpdate(&tableGram, old: old, new: table.row(r))
    }

    /// `steps` CG steps on the iALS row problem of `row` against `other`'s factors, from `x`.
    private func solve(_ x: inout [Float], row: InteractionRow, other: FactorTable, gram: [Float], steps: Int) {
        let n = row.ids.count
        if weights.count < max(n, 1) {
            weights = [Float](repeating: 0, count: max(n, 1) * 2)
            targets = [Float](repeating: 0, count: max(n, 1) * 2)
        }
        let alpha = configuration.alpha
        for k in 0..<n {
            weights[k] = alpha * row.values[k]
            targets[k] = 1 + alpha * row.values[k]
        }
        x.withUnsafeMutableBufferPointer { xp in
            gram.withUnsafeBufferPointer { g in
                row.ids.withUnsafeBufferPointer { ids in
                    weights.withUnsafeBufferPointer { w in
                        targets.withUnsafeBufferPointer { t in
                            scratch.withUnsafeMutableBufferPointer { s in
                                IALS.conjugateGradient(x: xp.baseAddress!, f: factors, gram: g.baseAddress!, y: other.base,
                                                       indices: ids.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                       weights: w.baseAddress!, targets: t.baseAddress!,
                                                       count: n, steps: steps, scratch: s.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `G += new·newᵀ − old·oldᵀ`.
    private func rankTwoUpdate(_ g: inout [Float], old: [Float], new: UnsafePointer<Float>) {
        let f = factors
        g.withUnsafeMutableBufferPointer { gp in
            old.withUnsafeBufferPointer { o in
                for r in 0..<f {
                    let a = new[r], b = o[r]
                    let rowStart = gp.baseAddress! + r * f
                    for c in 0..<f { rowStart[c] += a * new[c] - b * o[c] }
                }
            }
        }
    }
}

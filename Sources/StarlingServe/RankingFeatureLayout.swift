import Foundation
import StarlingStream

/// What each number in a ``StreamingRanker`` feature vector means, and how a vector is filled.
///
/// In order: a bias; the serving model's score and whether there is one; the candidate's place in
/// the engine's own order (`log(1 + rank)`); its time-decayed popularity; the share of the user's
/// recent items that share a category with it; its candidate source (one-hot); every streaming
/// feature of the item entity, then every one of the category entity (the largest over the item's
/// categories), as signed `log(1 + |v|)` — read from the feature store at request time; smoothed
/// click-through rates of the item where clicks and impressions are counted over one window; last, the
/// position the item was shown at (one-hot buckets), which is set only when learning from a shown
/// list, so that position bias is learned apart from relevance and left out of the ranking.
struct RankingFeatureLayout: Sendable {
    let itemFeatures: [String]
    let categoryFeatures: [String]
    /// Pairs of item features (clicks, impressions) over the same window: each gives a smoothed
    /// click-through rate, `log((clicks + 1) / (impressions + 10))`.
    let clickThrough: [(clicks: String, impressions: String)]
    /// Feature names, in vector order.
    let names: [String]
    /// Index of the first position bucket in a ranker vector.
    let positionOffset: Int
    /// First positions (from 0) of the position buckets: 0, 1, 2, 3, 4–5, 6–9, 10 and later.
    static let positionStarts = [0, 1, 2, 3, 4, 6, 10]
    static let sources: [CandidateSource] = [.ann, .model, .itemToItem, .popular, .recent]

    init(definitions: [FeatureDefinition]) {
        itemFeatures = definitions.filter { $0.entity == .item }.map(\.name)
        categoryFeatures = definitions.filter { $0.entity == .category }.map(\.name)
        let items = definitions.filter { $0.entity == .item && $0.aggregation == .count }
        clickThrough = items.filter { $0.eventType == .click }.compactMap { c in
            items.first { $0.eventType == .impression && $0.windowMs == c.windowMs }.map { (c.name, $0.name) }
        }
        var names = ["bias", "model_score", "has_model_score", "baseline_rank_log", "popularity_log", "user_category_share"]
        names += Self.sources.map { "source_\($0.rawValue)" }
        names += itemFeatures.map { "item:\($0)" } + categoryFeatures.map { "category:\($0)" }
        names += clickThrough.map { "ctr:\($0.clicks)/\($0.impressions)" }
        positionOffset = names.count
        names += Self.positionStarts.map { "position_\($0)" }
        self.names = names
    }

    var dimension: Int { names.count }

    /// The position bucket of a 0-based position.
    static func positionBucket(_ position: Int) -> Int {
        (positionStarts.lastIndex { position >= $0 }) ?? 0
    }

    static func signedLog(_ v: Float) -> Float { v >= 0 ? log1p(v) : -log1p(-v) }

    /// A ranker vector for `candidate` without a position: `item` its item features, `categories`
    /// those of each of its categories, `recentCategories` the categories of the user's recent items.
    func vector(_ candidate: RankingCandidate, item: [String: Float], categories: [[String: Float]],
                recentCategories: [[String]]) -> [Float] {
        var x = [Float](repeating: 0, count: dimension)
        x[0] = 1
        x[1] = candidate.modelScore ?? 0
        x[2] = candidate.modelScore == nil ? 0 : 1
        x[3] = log1p(Float(candidate.baselineRank))
        x[4] = Self.signedLog(candidate.popularity)
        if !recentCategories.isEmpty {
            let sharing = recentCategories.lazy.filter { $0.contains(where: candidate.categories.contains) }.count
            x[5] = Float(sharing) / Float(recentCategories.count)
        }
        x[6 + (Self.sources.firstIndex(of: candidate.source) ?? 0)] = 1
        var k = 6 + Self.sources.count
        for name in itemFeatures {
            x[k] = Self.signedLog(item[name] ?? 0)
            k += 1
        }
        for name in categoryFeatures {
            x[k] = Self.signedLog(categories.map { $0[name] ?? 0 }.max() ?? 0)
            k += 1
        }
        for (clicks, impressions) in clickThrough {
            x[k] = log(((item[clicks] ?? 0) + 1) / ((item[impressions] ?? 0) + 10))
            k += 1
        }
        return x
    }

    /// `x` with the one-hot bucket of `position` set.
    func placed(_ x: [Float], at position: Int) -> [Float] {
        var x = x
        x[positionOffset + Self.positionBucket(position)] = 1
        return x
    }
}

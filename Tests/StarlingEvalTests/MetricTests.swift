import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor
import Testing

/// A scorer whose scores come from a closure, for protocol tests.
final class FunctionScorer: PairScoring, @unchecked Sendable {
    let modelName: String
    let userCount: Int, itemCount: Int
    let score: @Sendable (Int32, Int32) -> Float
    init(_ name: String, users: Int, items: Int, _ score: @escaping @Sendable (Int32, Int32) -> Float) {
        modelName = name; userCount = users; itemCount = items; self.score = score
    }
    func scores(users: [Int32], items: [Int32]) -> [Float] { zip(users, items).map { score($0, $1) } }
}

@Suite("Ranking metrics and the sampled protocol")
struct MetricTests {
    @Test func metricValuesMatchHandComputation() {
        #expect(RankingMetrics.hitRate(rank: 0, k: 10) == 1 && RankingMetrics.hitRate(rank: 9, k: 10) == 1)
        #expect(RankingMetrics.hitRate(rank: 10, k: 10) == 0)
        #expect(RankingMetrics.ndcg(rank: 0, k: 10) == 1)
        #expect(abs(RankingMetrics.ndcg(rank: 3, k: 10) - 1 / log2(5.0)) < 1e-12)
        #expect(abs(RankingMetrics.ndcg(rank: 1, k: 10) - 0.6309297535714575) < 1e-12)
        #expect(RankingMetrics.ndcg(rank: 10, k: 10) == 0)
        #expect(RankingMetrics.reciprocalRank(rank: 3, k: 10) == 0.25)
    }

    @Test func rankCountsTiesAgainstTheTargetAndDuplicatesOnce() {
        // Target scores 0.5; candidates 7 (0.9), 8 (0.5, a tie), 7 again, and the target itself.
        let rank = RankingMetrics.rank(targetScore: 0.5, target: 3, candidates: [7, 8, 7, 3, 9], scores: [0.9, 0.5, 0.9, 0.5, 0.1])
        #expect(rank == 2)
    }

    func tinySplit() -> NCFSplit {
        let train = InteractionMatrix(userCount: 3, itemCount: 20, pairs: [(0, 0), (1, 1), (2, 2)])
        return NCFSplit(train: train, testItems: [5, 6, 7], testNegatives: [[8, 9, 10, 11], [8, 9, 10, 11], [8, 9, 10, 11]], name: "tiny")
    }

    @Test func oracleAdversaryAndConstantScorers() throws {
        let split = tinySplit()
        let evaluator = SampledRankingEvaluator(split: split, ks: [1, 3])
        let oracle = evaluator.evaluate(FunctionScorer("oracle", users: 3, items: 20) { u, i in i == Int32(5 + u) ? 1 : 0 })
        #expect(oracle.metrics["HR@1"] == 1 && oracle.metrics["NDCG@3"] == 1)
        let adversary = evaluator.evaluate(FunctionScorer("adversary", users: 3, items: 20) { u, i in i == Int32(5 + u) ? -1 : Float(i) })
        #expect(adversary.metrics["HR@3"] == 0)
        let constant = evaluator.evaluate(FunctionScorer("constant", users: 3, items: 20) { _, _ in 0 })
        #expect(constant.metrics["HR@3"] == 0, "ties must not earn credit")
        // Target ranked second for every user: HR@1 = 0, HR@3 = 1, NDCG@3 = 1/log2(3).
        let second = evaluator.evaluate(FunctionScorer("second", users: 3, items: 20) { u, i in
            i == Int32(5 + u) ? 0.5 : (i == 8 ? 1 : 0)
        })
        #expect(second.metrics["HR@1"] == 0 && second.metrics["HR@3"] == 1)
        #expect(abs(second.metrics["NDCG@3"]! - 1 / log2(3.0)) < 1e-12)
        #expect(second.users == 3)
    }

    @Test func reportJSONHasTheDocumentedKeys() throws {
        let report = SampledRankingEvaluator(split: tinySplit()).evaluate(FunctionScorer("m", users: 3, items: 20) { _, i in Float(i) })
        let object = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as! [String: Any]
        #expect(Set(object.keys).isSuperset(of: ["model", "dataset", "protocol", "metrics"]))
        let proto = object["protocol"] as! [String: Any]
        #expect(proto["ranking"] as? String == "sampled")
        #expect((object["metrics"] as! [String: Double]).keys.contains("NDCG@10"))
    }

    @Test func lineChartIsWellFormedSVG() throws {
        let chart = LineChart(title: "loss & <metrics>", xLabel: "epoch", yLabel: "value",
                              series: [.init(name: "loss", points: [(1, 0.3), (2, 0.25)]), .init(name: "HR@10", points: [(1, 0.6), (2, 0.65)])])
        let svg = chart.svg()
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("loss &amp; &lt;metrics&gt;"))
        #expect(XMLDocumentCheck.isWellFormed(svg))
    }
}

#if canImport(FoundationXML)
import FoundationXML
#endif

enum XMLDocumentCheck {
    static func isWellFormed(_ text: String) -> Bool {
        XMLParser(data: Data(text.utf8)).parse()
    }
}

@Suite("Markdown report and bar chart")
struct MarkdownReportTests {
    @Test func reportListsProtocolModelsAndMetrics() throws {
        let p = EvaluationProtocol(ranking: "full-ranking", candidates: "all items", split: "80/20", ks: [10], ties: "lower id first")
        let a = EvaluationReport(model: "EASE", dataset: "ml-100k", evaluationProtocol: p, metrics: ["Recall@10": 0.3, "NDCG@10": 0.4, "HR@10": 0.8], users: 10, seconds: 1,
                                 details: ["fit_seconds": "2.25", "lambda": "250", "checkpoint": "x.safetensors"])
        let b = EvaluationReport(model: "Pop", dataset: "ml-100k", evaluationProtocol: p, metrics: ["Recall@10": 0.1, "NDCG@10": 0.2, "HR@10": 0.5, "MAP@10": 0.1], users: 10, seconds: 0.1)
        let md = MarkdownReport.render(title: "ML-100K", reports: [a, b], chartFile: "chart.svg")
        #expect(md.contains("| model | HR@10 | Recall@10 | NDCG@10 | fit s | evaluation s |"))
        #expect(md.contains("| EASE | 0.8000 | 0.3000 | 0.4000 | 2.2 | 1.0 |"))
        #expect(md.contains("| Pop | 0.5000 | 0.1000 | 0.2000 | — | 0.1 |"))
        #expect(md.contains("- EASE: lambda=250\n"))
        #expect(md.contains("**full-ranking**") && md.contains("![ML-100K](chart.svg)"))
        let svg = MarkdownReport.chart(title: "ML-100K", reports: [a, b]).svg()
        #expect(svg.components(separatedBy: "<rect x=").count - 1 == 3 * 2 + 2)  // bars + legend swatches
        #expect(XMLDocumentCheck.isWellFormed(svg))
    }
}

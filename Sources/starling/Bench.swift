import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (build with -c release); each prints JSON.",
        subcommands: [EngineBench.self, NeuMFBench.self, IndexBench.self, ServeBench.self, FeatureBench.self, OnlineBench.self, ClickBench.self, SASRecBench.self, LightGCNBench.self])
}

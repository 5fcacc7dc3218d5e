import ArgumentParser

@main
struct Starling: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "starling",
        abstract: "Starling: a real-time deep-learning recommendation engine.",
        subcommands: [Quickstart.self, Serve.self, Simulate.self, Train.self, Evaluate.self, Report.self, Plot.self, DebugAppendEvents.self, Bench.self]
    )
}

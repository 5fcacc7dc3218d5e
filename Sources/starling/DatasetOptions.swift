import ArgumentParser
import Foundation
import StarlingData

/// Where to find the offline datasets.
struct DatasetOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).")
    var data: String?

    /// The NCF MovieLens-1M split.
    func ncfSplit() throws -> NCFSplit {
        let root = try DataRoot.resolve(explicit: data)
        return try NCFSplit.load(directory: try DataRoot.dataset("ncf-ml-1m", in: root), name: "ml-1m")
    }
}

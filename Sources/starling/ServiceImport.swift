import Foundation
import StarlingData
import StarlingServe

/// Loads a dataset (items with their metadata, then every event) into a service, as a bulk import.
enum ServiceImport {
    /// Imports the catalogue and the events; returns how many events were stored. Events without
    /// timestamps get increasing ones from a fixed base, in log order.
    /// `order`: which events, in which order (default: all, in log order).
    /// `timestamps` (Unix ms, per event) replace the dataset's.
    static func load(_ data: Dataset, into system: RecommendationService, batchSize: Int = 100_000, order: [Int]? = nil,
                     timestamps: [Int64]? = nil) throws -> Int {
        try system.importItems(data.items.ids.enumerated().map { k, id in
            let m = data.itemMetadata[k]
            return CatalogueItem(id: id, title: m.title, categories: m.categories, tags: m.tags, attributes: m.attributes)
        })
        var stored = 0, start = 0
        let base = Int64(1_700_000_000_000)
        let log = data.events
        let order = order ?? Array(0..<log.count)
        while start < order.count {
            let end = min(order.count, start + batchSize)
            let batch = order[start..<end].map { k in
                EventInput(user: data.users.ids[Int(log.users[k])], item: data.items.ids[Int(log.items[k])],
                           type: log.types[Int(log.typeCodes[k])].rawValue, value: log.values[k],
                           timestamp: timestamps?[k] ?? log.timestamps.map { $0[k] * 1000 } ?? base + Int64(k))
            }
            stored += try system.ingest(batch)
            start = end
        }
        return stored
    }
}

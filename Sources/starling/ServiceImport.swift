import Foundation
import StarlingData
import StarlingServe

/// Loads a dataset (items with their metadata, then every event) into a service, as a bulk import.
enum ServiceImport {
    /// Imports the catalogue and the events; returns how many events were stored. Events without
    /// timestamps get increasing ones from a fixed base, in log order.
    static func load(_ data: Dataset, into system: RecommendationService, batchSize: Int = 100_000) throws -> Int {
        try system.importItems(data.items.ids.enumerated().map { k, id in
            let m = data.itemMetadata[k]
            return CatalogueItem(id: id, title: m.title, categories: m.categories, tags: m.tags, attributes: m.attributes)
        })
        var stored = 0, start = 0
        let base = Int64(1_700_000_000_000)
        let log = data.events
        while start < log.count {
            let end = min(log.count, start + batchSize)
            let batch = (start..<end).map { k in
                EventInput(user: data.users.ids[Int(log.users[k])], item: data.items.ids[Int(log.items[k])],
                           type: log.types[Int(log.typeCodes[k])].rawValue, value: log.values[k],
                           timestamp: log.timestamps.map { $0[k] * 1000 } ?? base + Int64(k))
            }
            stored += try system.ingest(batch)
            start = end
        }
        return stored
    }
}

import StarlingData
import StarlingTensor

/// A small simulated catalogue and its users, for running the quickstart with neither data nor
/// network: items belong to genres and have Zipf-like popularity; each user favours two genres.
enum SimulatedShop {
    static func dataset(users: Int = 2000, items: Int = 600, eventsPerUser: Int = 30, seed: UInt64 = 42) -> Dataset {
        let genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Documentary", "Animation"]
        var rng = RandomGenerator(seed: seed)
        let itemGenre = (0..<items).map { _ in Int(rng.next() % UInt64(genres.count)) }
        let weight = (0..<items).map { 1 / Double($0 + 10) }
        var byGenre = [[Int]](repeating: [], count: genres.count)
        for (i, g) in itemGenre.enumerated() { byGenre[g].append(i) }
        var log = EventLog(hasTimestamps: true)
        for u in 0..<users {
            let liked = [Int(rng.next() % UInt64(genres.count)), Int(rng.next() % UInt64(genres.count))]
            var seen = Set<Int>()
            var t = Int64(1_700_000_000) + Int64(u)
            while seen.count < eventsPerUser {
                let pool = rng.nextDouble() < 0.8 ? byGenre[liked[seen.count % 2]] : Array(0..<items)
                let total = pool.reduce(0) { $0 + weight[$1] }
                var r = rng.nextDouble() * total, pick = pool[0]
                for i in pool { r -= weight[i]; if r <= 0 { pick = i; break } }
                guard seen.insert(pick).inserted else { continue }
                t += 60
                log.append(Event(user: Int32(u), item: Int32(pick), type: .view, value: 1, timestamp: t))
            }
        }
        let metadata = (0..<items).map { i in ItemMetadata(title: "\(genres[itemGenre[i]]) title #\(i + 1)", categories: [genres[itemGenre[i]]]) }
        return Dataset(name: "simulated-shop", users: try! IdVocabulary(ids: (1...users).map { "user\($0)" }),
                       items: try! IdVocabulary(ids: (1...items).map { "item\($0)" }), events: log, itemMetadata: metadata)
    }
}

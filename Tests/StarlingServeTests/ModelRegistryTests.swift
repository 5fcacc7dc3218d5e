import Foundation
import StarlingData
import StarlingModels
import StarlingServe
import StarlingTensor
import Testing

@Suite("Model registry")
struct ModelRegistryTests {
    /// Two small, different models over the same 30 users × 20 items.
    static func checkpoints(in dir: URL) throws -> (URL, URL) {
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<30 { for i in 0..<20 where (u + i) % 3 == 0 { pairs.append((Int32(u), Int32(i))) } }
        let data = InteractionMatrix(userCount: 30, itemCount: 20, pairs: pairs)
        let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
        try Popularity.fit(data).save(to: a)
        try IALS.fit(data, configuration: .init(factors: 4, iterations: 3)).save(to: b)
        return (a, b)
    }

    @Test func publishPromoteRollBackAndReopen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (a, b) = try Self.checkpoints(in: dir)
        let registry = try ModelRegistry(root: dir.appendingPathComponent("reg"), keep: 2)
        #expect(registry.current == nil)
        let v1 = try registry.publish(checkpoint: a, metadata: ["HR@10": "0.45"])
        let v2 = try registry.publish(checkpoint: b, metadata: ["HR@10": "0.70"])
        #expect((v1, v2) == (1, 2))
        #expect(try registry.versions().map(\.model) == ["popularity", "ials"])
        #expect(registry.current == nil)  // publishing does not activate
        try registry.promote(v1)
        #expect(registry.current?.model.modelName == "Popularity")
        try registry.promote(v2)
        #expect(registry.current?.version == 2 && registry.current?.model.modelName == "iALS")
        #expect(try registry.rollBack() == 1)
        #expect(registry.current?.version == 1)
        #expect(throws: RegistryError.self) { try registry.rollBack() }  // nothing before v1
        #expect(throws: RegistryError.self) { try registry.promote(9) }
        // A restart finds the active version on disk.
        let reopened = try ModelRegistry(root: dir.appendingPathComponent("reg"), keep: 2)
        #expect(reopened.current?.version == 1 && reopened.current?.model.modelName == "Popularity")
        // Retention: the newest 2 plus the active one survive.
        _ = try reopened.publish(checkpoint: b)
        _ = try reopened.publish(checkpoint: b)
        #expect(try reopened.versions().map(\.version) == [1, 3, 4])
    }

    @Test func requestsNeverFailWhileVersionsSwap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (a, b) = try Self.checkpoints(in: dir)
        let registry = try ModelRegistry(root: dir.appendingPathComponent("reg"))
        let v1 = try registry.publish(checkpoint: a), v2 = try registry.publish(checkpoint: b)
        try registry.promote(v1)
        let failures = Parallel.map(2) { worker -> Int in
            var bad = 0
            if worker == 0 {
                for k in 0..<40 { try? registry.promote(k % 2 == 0 ? v2 : v1) }
            } else {
                for _ in 0..<2_000 {
                    guard let (_, model) = registry.current else { bad += 1; continue }
                    if model.recommend(user: 3, count: 5).count != 5 { bad += 1 }
                }
            }
            return bad
        }
        #expect(failures == [0, 0])
    }
}

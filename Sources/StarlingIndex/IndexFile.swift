import Foundation
import StarlingTensor

/// The safetensors layout shared by the indexes: the store's slots (`ids`, `live`, and `vectors`
/// `[slots, d]` when floats are kept, else `codes` packed four per int32 word and `scales`), plus
/// each index's own integer tensors, with `index`, `metric`, `dimension` and `configuration`
/// in the metadata.
struct IndexFile {
    let path: String
    let file: SafeTensorsFile
    let dimension: Int
    let metric: SimilarityMetric

    static func write(store: VectorStore, kind: String, configuration: some Encodable, extra: [String: SafeTensorsFile.IntegerTensor],
                      floatExtra: [String: Tensor] = [:], to url: URL) throws {
        let n = store.slotCount, d = store.dimension
        var ints = extra
        ints["ids"] = .init(shape: [n], values: Array(UnsafeBufferPointer(start: store.ids, count: n)))
        ints["live"] = .init(shape: [n], values: (0..<n).map { store.live[$0] ? 1 : 0 })
        var floats = floatExtra
        if store.keepsFloats {
            floats["vectors"] = try Tensor(shape: [n, d], scalars: Array(UnsafeBufferPointer(start: store.floats, count: n * d)))
        } else if let codes = store.codes, let scales = store.scales {
            let words = (d + 3) / 4
            var packed = [Int32](repeating: 0, count: n * words)
            for s in 0..<n {
                for j in 0..<d {
                    packed[s * words + j / 4] |= Int32(bitPattern: UInt32(UInt8(bitPattern: codes[s * d + j])) << (8 * UInt32(j % 4)))
                }
            }
            ints["codes"] = .init(shape: [n, words], values: packed)
            floats["scales"] = try Tensor(shape: [n], scalars: Array(UnsafeBufferPointer(start: scales, count: n)))
        }
        let config = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        let file = SafeTensorsFile(tensors: floats, integerTensors: ints,
                                   metadata: ["index": kind, "metric": store.metric.rawValue, "dimension": "\(d)",
                                              "configuration": config, "format_version": "1"])
        try file.write(to: url)
    }

    static func read(_ url: URL, kind: String) throws -> IndexFile {
        let file = try SafeTensorsFile(contentsOf: url)
        let found = try file.metadata("index", path: url.path)
        guard found == kind else { throw IndexError.badFile(path: url.path, reason: "holds a \(found) index, not \(kind)") }
        guard let d = Int(try file.metadata("dimension", path: url.path)), d > 0 else {
            throw IndexError.badFile(path: url.path, reason: "bad dimension")
        }
        guard let metric = SimilarityMetric(rawValue: try file.metadata("metric", path: url.path)) else {
            throw IndexError.badFile(path: url.path, reason: "unknown metric")
        }
        return IndexFile(path: url.path, file: file, dimension: d, metric: metric)
    }

    func configuration<C: Decodable>(_ type: C.Type) throws -> C {
        do { return try JSONDecoder().decode(C.self, from: Data(try file.metadata("configuration", path: path).utf8)) } catch {
            throw IndexError.badFile(path: path, reason: "bad configuration: \(error)")
        }
    }

    func integers(_ name: String, count: Int? = nil) throws -> [Int32] {
        let t: SafeTensorsFile.IntegerTensor
        do { t = try file.integerTensor(name) } catch { throw IndexError.badFile(path: path, reason: "missing tensor \(name)") }
        if let count, t.values.count != count {
            throw IndexError.badFile(path: path, reason: "\(name) has \(t.values.count) values, expected \(count)")
        }
        return t.values
    }

    /// Refills `store` (empty, same dimension) with the saved slots.
    func restore(into store: VectorStore) throws {
        let ids = try integers("ids"), n = ids.count, d = dimension
        let live = try integers("live", count: n)
        if let vectors = file.tensors["vectors"] {
            guard vectors.shape == [n, d] else { throw IndexError.badFile(path: path, reason: "vectors have shape \(vectors.shape), expected [\(n), \(d)]") }
            store.reserve(n)
            vectors.scalars.withUnsafeBufferPointer { v in
                for s in 0..<n { store.restore(id: ids[s], live: live[s] != 0, vector: v.baseAddress! + s * d, code: nil, scale: 0) }
            }
        } else {
            let words = (d + 3) / 4
            let packed = try integers("codes", count: n * words)
            guard let scales = file.tensors["scales"], scales.count == n else { throw IndexError.badFile(path: path, reason: "missing scales") }
            store.reserve(n)
            var code = [Int8](repeating: 0, count: d)
            for s in 0..<n {
                for j in 0..<d { code[j] = Int8(bitPattern: UInt8(truncatingIfNeeded: UInt32(bitPattern: packed[s * words + j / 4]) >> (8 * UInt32(j % 4)))) }
                code.withUnsafeBufferPointer { store.restore(id: ids[s], live: live[s] != 0, vector: nil, code: $0.baseAddress!, scale: scales.scalars[s]) }
            }
        }
    }
}

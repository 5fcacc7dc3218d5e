import ArgumentParser
import Foundation
import StarlingData
import StarlingIndex
import StarlingModels
import StarlingTensor

/// `starling bench index`: build time, memory, recall@10 against exact search and queries/s of
/// the HNSW index (float and int8) and the exact index, on real iALS embeddings and a synthetic
/// million-vector mixture; optionally hnswlib and faiss on the same vectors in the same run.
struct IndexBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Vector index benchmark: HNSW (float, int8) and exact search vs hnswlib/faiss (JSON).")

    @Flag(help: "Print JSON only.") var json = false
    @Option(parsing: .upToNextOption, help: "Sets: gowalla-ials, synthetic.") var sets: [String] = ["gowalla-ials", "synthetic"]
    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).") var data: String?
    @Option(help: "Synthetic vectors.") var syntheticCount = 1_000_000
    @Option(help: "Synthetic dimension.") var syntheticDimension = 64
    @Option(help: "Synthetic mixture components.") var clusters = 1_000
    @Option(help: "Within-cluster standard deviation relative to the spread of the centres (larger overlaps more).") var spread: Float = 1.0
    @Option(help: "Queries per set (fresh draws for the synthetic set, the first users for Gowalla).") var queries = 2_000
    @Option(name: .customLong("m"), help: "HNSW links per node.") var m = 16
    @Option(help: "HNSW efConstruction.") var efConstruction = 200
    @Option(parsing: .upToNextOption, help: "efSearch values.") var ef: [Int] = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256]
    @Option(help: "Threads for building.") var threads = Parallel.coreCount
    @Flag(help: "Skip the int8-quantised HNSW.") var skipInt8 = false
    @Option(parsing: .upToNextOption, help: "LSH extra probes per table to measure (none: skip LSH).") var lshProbes: [Int] = [0, 16, 64, 256]
    @Option(help: "LSH tables.") var lshTables = 8
    @Option(help: "LSH bits per table.") var lshBits = 16
    @Option(help: "Write each set's vectors, queries and exact top-10 here (for scripts/compare_ann_peers.py).") var export: String?
    @Flag(help: "Also run scripts/compare_ann_peers.py (hnswlib, faiss) on the exported vectors and report ratios.") var peers = false

    func run() throws {
        var result: [String: Any] = ["build": BenchEnvironment.build, "cores": ProcessInfo.processInfo.activeProcessorCount,
                                     "protocol": "inner product; recall@10 = |approximate top-10 ∩ exact top-10| / 10, averaged over queries; queries/s over the whole query batch, best of 3"]
        var exportDir = export
        if peers && exportDir == nil { exportDir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-ann-\(UUID().uuidString)").path }
        var setResults: [String: Any] = [:]
        for name in sets {
            let (base, query, description) = try vectors(name)
            Console.status("[\(name)] \(description): \(base.shape[0]) × \(base.shape[1]), \(query.shape[0]) queries")
            setResults[name] = try benchmark(name: name, base: base, queries: query, description: description, exportDir: exportDir)
        }
        if peers, let exportDir {
            let peerResult = try runPeers(exportDir)
            for (name, value) in peerResult {
                guard var mine = setResults[name] as? [String: Any], let theirs = value as? [String: Any] else { continue }
                mine["peers"] = theirs
                mine.merge(Self.ratios(mine, theirs)) { $1 }
                setResults[name] = mine
            }
            if export == nil { try? FileManager.default.removeItem(atPath: exportDir) }
        }
        result["sets"] = setResults
        if let synthetic = setResults["synthetic"] as? [String: Any] {
            result["recall_at_10"] = synthetic["recall_at_10"]
            result["qps_ratio_vs_hnswlib"] = synthetic["qps_ratio_vs_hnswlib"]
        }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
        print(text)
    }

    // MARK: data

    func vectors(_ name: String) throws -> (Tensor, Tensor, String) {
        switch name {
        case "gowalla-ials":
            let split = try AdjacencySplit.gowalla(root: try DataRoot.resolve(explicit: data))
            Console.status("[gowalla-ials] fitting iALS (64 factors, alpha 39, 15 iterations)")
            let model = try IALS.fit(split.train, configuration: IALS.Configuration(factors: 64, alpha: 39, iterations: 15))
            let users = model.userFactors
            let n = min(queries, users.shape[0])
            return (model.itemFactors, try Tensor(shape: [n, 64], scalars: Array(users.scalars.prefix(n * 64))),
                    "iALS item factors (LightGCN Gowalla split), user factors as queries")
        case "synthetic":
            let (b, q) = Self.mixture(count: syntheticCount, queries: queries, dimension: syntheticDimension, clusters: clusters, spread: spread, seed: 7)
            return (b, q, "Gaussian mixture, \(clusters) components, within/between spread \(spread), normalised; queries are fresh draws")
        default:
            throw ValidationError("unknown set \(name); known: gowalla-ials, synthetic")
        }
    }

    /// `count` base and `queries` query vectors from one mixture: centre `c ~ N(0, I)`, point
    /// `c + spread·N(0, I)`, normalised.
    static func mixture(count: Int, queries: Int, dimension d: Int, clusters: Int, spread: Float, seed: UInt64) -> (Tensor, Tensor) {
        var rng = RandomGenerator(seed: seed)
        let centres = (0..<(clusters * d)).map { _ in rng.nextNormal() }
        func draw(_ n: Int, _ rng: inout RandomGenerator) -> Tensor {
            var out = [Float](repeating: 0, count: n * d)
            for r in 0..<n {
                let c = Int(rng.next() % UInt64(clusters))
                var norm: Float = 0
                for j in 0..<d {
                    let x = centres[c * d + j] + spread * rng.nextNormal()
                    out[r * d + j] = x
                    norm += x * x
                }
                let inv = 1 / max(norm.squareRoot(), 1e-12)
                for j in 0..<d { out[r * d + j] *= inv }
            }
            return try! Tensor(shape: [n, d], scalars: out)
        }
        let base = draw(count, &rng)
        return (base, draw(queries, &rng))
    }

    // MARK: measuring

    func benchmark(name: String, base: Tensor, queries: Tensor, description: String, exportDir: String?) throws -> [String: Any] {
        let n = base.shape[0], d = base.shape[1], ids = (0..<Int32(n)).map { $0 }
        let exact = try ExactIndex(dimension: d)
        try exact.add(ids: ids, vectors: base)
        var exactTime = [Double](), truth: [[TopK.Entry]] = []
        for t in [1, 2] {
            exactTime.append(try Self.bestOf(3) { truth = try exact.search(batch: queries, k: 10, filter: nil, threads: t) })
        }
        let q = Double(queries.shape[0])
        Console.status("[\(name)] exact: \(Int(q / exactTime[0])) queries/s on 1 thread, \(Int(q / exactTime[1])) on 2")
        if let exportDir { try Self.export(name: name, base: base, queries: queries, truth: truth, to: exportDir) }
        var out: [String: Any] = ["description": description, "count": n, "dimension": d, "queries": queries.shape[0],
                                  "exact": ["qps_1_thread": (q / exactTime[0]).rounded(to: 1), "qps_2_threads": (q / exactTime[1]).rounded(to: 1),
                                            "memory_bytes": exact.memoryBytes]]
        for quantized in skipInt8 ? [false] : [false, true] {
            let config = HNSWIndex.Configuration(m: m, efConstruction: efConstruction, quantized: quantized)
            let hnsw = try HNSWIndex(dimension: d, configuration: config, keepFloats: !quantized)
            if quantized {
                // Re-ranking reads the caller's float vectors (as the service reads the model's item factors).
                let floats = base.scalars
                hnsw.rerankSource = { id, into in
                    floats.withUnsafeBufferPointer { into.update(from: $0.baseAddress! + Int(id) * d, count: d) }
                    return true
                }
            }
            let start = Date()
            try hnsw.add(ids: ids, vectors: base, threads: threads)
            let buildSeconds = Date().timeIntervalSince(start)
            let label = quantized ? "hnsw_int8" : "hnsw"
            Console.status("[\(name)] \(label) built in \(String(format: "%.1f", buildSeconds)) s, \(hnsw.memoryBytes / 1_000_000) MB")
            var runs: [[String: Any]] = []
            for e in ef {
                var found: [[TopK.Entry]] = []
                let t1 = try Self.bestOf(3) { found = try hnsw.search(batch: queries, k: 10, ef: e, threads: 1) }
                let t2 = try Self.bestOf(3) { found = try hnsw.search(batch: queries, k: 10, ef: e, threads: 2) }
                let recall = Self.recall(found, truth)
                runs.append(["ef": e, "recall_at_10": recall.rounded(to: 4), "qps_1_thread": (q / t1).rounded(to: 1), "qps_2_threads": (q / t2).rounded(to: 1)])
                Console.status("[\(name)] \(label) ef \(e): recall@10 \(String(format: "%.4f", recall)), \(Int(q / t1)) q/s on 1 thread, \(Int(q / t2)) on 2")
            }
            out[label] = ["build_seconds": buildSeconds.rounded(to: 2), "build_threads": threads, "m": m, "ef_construction": efConstruction,
                          "memory_bytes": hnsw.memoryBytes, "vector_bytes": hnsw.vectorBytes, "graph_bytes": hnsw.graphBytes,
                          "float32_vector_bytes": n * d * 4, "runs": runs,
                          "qps_at_recall_095": Self.bestQPS(runs, key: "qps_1_thread") as Any]
        }
        if !lshProbes.isEmpty { out["lsh"] = try lsh(name: name, base: base, queries: queries, truth: truth) }
        if let h = out["hnsw"] as? [String: Any], let best = h["qps_at_recall_095"] as? [String: Any] {
            out["recall_at_10"] = best["recall_at_10"]
        }
        return out
    }

    /// Random-hyperplane LSH at several probe counts (exact re-ranking of the candidates).
    func lsh(name: String, base: Tensor, queries: Tensor, truth: [[TopK.Entry]]) throws -> [String: Any] {
        let n = base.shape[0], d = base.shape[1], q = queries.shape[0]
        let index = try LSHIndex(dimension: d, configuration: .init(tables: lshTables, bitsPerTable: lshBits))
        let start = Date()
        try index.add(ids: (0..<Int32(n)).map { $0 }, vectors: base)
        let buildSeconds = Date().timeIntervalSince(start)
        let rows = (0..<q).map { Array(queries.scalars[($0 * d)..<(($0 + 1) * d)]) }
        var runs: [[String: Any]] = []
        for probes in lshProbes {
            var found: [[TopK.Entry]] = []
            let t1 = try Self.bestOf(2) { found = try rows.map { try index.search($0, k: 10, filter: nil, probes: probes) } }
            let t2 = try Self.bestOf(2) {
                let halves = Parallel.map(2) { h in rows[(h * q / 2)..<((h + 1) * q / 2)].map { (try? index.search($0, k: 10, filter: nil, probes: probes)) ?? [] } }
                found = halves[0] + halves[1]
            }
            let recall = Self.recall(found, truth)
            runs.append(["probes": probes, "recall_at_10": recall.rounded(to: 4), "qps_1_thread": (Double(q) / t1).rounded(to: 1),
                         "qps_2_threads": (Double(q) / t2).rounded(to: 1)])
            Console.status("[\(name)] lsh probes \(probes): recall@10 \(String(format: "%.4f", recall)), \(Int(Double(q) / t1)) q/s on 1 thread")
        }
        return ["tables": lshTables, "bits_per_table": lshBits, "build_seconds": buildSeconds.rounded(to: 2),
                "memory_bytes": index.memoryBytes, "runs": runs]
    }

    /// The fastest run (by `key`) with recall@10 ≥ 0.95: `{ef, recall_at_10, qps}`.
    static func bestQPS(_ runs: [[String: Any]], key: String) -> [String: Any]? {
        let ok = runs.filter { ($0["recall_at_10"] as? Double ?? 0) >= 0.95 }
        guard let best = ok.max(by: { ($0[key] as? Double ?? 0) < ($1[key] as? Double ?? 0) }) else { return nil }
        return ["ef": best["ef"]!, "recall_at_10": best["recall_at_10"]!, "qps": best[key]!]
    }

    static func recall(_ found: [[TopK.Entry]], _ truth: [[TopK.Entry]]) -> Double {
        var hits = 0
        for (f, t) in zip(found, truth) { hits += Set(f.prefix(10).map(\.index)).intersection(t.prefix(10).map(\.index)).count }
        return Double(hits) / Double(max(1, truth.count * 10))
    }

    static func bestOf(_ trials: Int, _ body: () throws -> Void) throws -> Double {
        var best = Double.infinity
        for _ in 0..<trials {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    // MARK: peers

    static func export(name: String, base: Tensor, queries: Tensor, truth: [[TopK.Entry]], to dir: String) throws {
        let folder = URL(fileURLWithPath: dir).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func raw<T>(_ values: [T]) -> Data { values.withUnsafeBufferPointer { Data(buffer: $0) } }
        try raw(base.scalars).write(to: folder.appendingPathComponent("base.f32"))
        try raw(queries.scalars).write(to: folder.appendingPathComponent("queries.f32"))
        try raw(truth.flatMap { row in (0..<10).map { $0 < row.count ? row[$0].index : -1 } }).write(to: folder.appendingPathComponent("truth.i32"))
        let meta: [String: Any] = ["name": name, "count": base.shape[0], "dimension": base.shape[1], "queries": queries.shape[0], "metric": "inner-product"]
        try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]).write(to: folder.appendingPathComponent("meta.json"))
    }

    func runPeers(_ dir: String) throws -> [String: Any] {
        let script = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/compare_ann_peers.py").standardizedFileURL.path
        let path = FileManager.default.fileExists(atPath: script) ? script : "scripts/compare_ann_peers.py"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path, dir, "--sets"] + sets + ["--ef"] + ef.map(String.init) + ["--m", "\(m)", "--ef-construction", "\(efConstruction)"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let sets = object["sets"] as? [String: Any] else {
            throw ValidationError("\(path) failed (status \(process.terminationStatus)); install hnswlib and faiss-cpu from PyPI")
        }
        return sets
    }

    /// Starling's best 1-thread queries/s at recall ≥ 0.95 over hnswlib's.
    static func ratios(_ mine: [String: Any], _ peers: [String: Any]) -> [String: Any] {
        guard let h = mine["hnsw"] as? [String: Any], let ours = h["qps_at_recall_095"] as? [String: Any],
              let oursQPS = ours["qps"] as? Double,
              let lib = peers["hnswlib"] as? [String: Any] else { return [:] }
        guard let theirQPS = (lib["qps_at_recall_095"] as? [String: Any])?["1"] as? Double, theirQPS > 0 else { return [:] }
        var r: [String: Any] = ["qps_ratio_vs_hnswlib": (oursQPS / theirQPS).rounded(to: 3), "hnswlib_qps_at_recall_095": theirQPS]
        if let i8 = mine["hnsw_int8"] as? [String: Any], let b = i8["qps_at_recall_095"] as? [String: Any], let q = b["qps"] as? Double {
            r["int8_qps_ratio_vs_hnswlib"] = (q / theirQPS).rounded(to: 3)
            if let vb = i8["vector_bytes"] as? Int, let fb = i8["float32_vector_bytes"] as? Int { r["int8_vector_memory_ratio"] = (Double(vb) / Double(fb)).rounded(to: 3) }
        }
        return r
    }
}

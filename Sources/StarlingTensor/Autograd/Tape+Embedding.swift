/// How an embedding-bag combines the rows of one bag.
public enum BagReduction: String, Sendable, Codable {
    /// The sum of the rows.
    case sum
    /// The mean of the rows (an empty bag gives zeros).
    case mean
}

extension Tape {
    /// Looks up rows of an embedding table: the result has shape `[indices.count, width]`.
    /// The table's gradient is row-sparse: only looked-up rows get one.
    public func embedding(_ table: Parameter, indices: [Int32]) -> Variable {
        let t = table.value
        precondition(t.rank == 2, "embedding: table \(table.name) must be rank 2, got \(t.shape)")
        let rows = t.shape[0], width = t.shape[1]
        var out = Tensor(uninitializedShape: [indices.count, width])
        let src = t.readPointer, dst = out.writePointer()
        for i in indices {
            precondition(i >= 0 && Int(i) < rows, "embedding: index \(i) out of range 0..<\(rows) for table \(table.name)")
        }
        let ahead = VectorKernels.prefetchDistance
        for (k, i) in indices.enumerated() {
            if k + ahead < indices.count { VectorKernels.prefetch(src + Int(indices[k + ahead]) * width, count: width) }
            (dst + k * width).update(from: src + Int(i) * width, count: width)
        }
        return recordSparse(out) { g, sink in
            sink.accumulateSparse(table, SparseRows(indices: indices, values: g, tableRows: rows))
        }
    }

    /// Sums or averages variable-length bags of embedding rows. Bag `b` holds
    /// `indices[offsets[b] ..< offsets[b+1]]` (the last bag runs to the end); optional
    /// `weights` (one per index) scale each row. The result has shape `[offsets.count, width]`;
    /// the table's gradient is row-sparse.
    public func embeddingBag(
        _ table: Parameter, indices: [Int32], offsets: [Int], reduction: BagReduction = .sum,
        weights: [Float]? = nil
    ) -> Variable {
        let t = table.value
        let rows = t.shape[0], width = t.shape[1]
        let bags = offsets.count
        precondition(weights == nil || weights!.count == indices.count,
                     "embeddingBag: \(weights?.count ?? 0) weights for \(indices.count) indices")
        let bounds = offsets + [indices.count]
        for b in 0..<bags {
            precondition(bounds[b] >= 0 && bounds[b] <= bounds[b + 1] && bounds[b + 1] <= indices.count,
                         "embeddingBag: offsets must be non-decreasing and within 0...\(indices.count), got \(offsets)")
        }
        for i in indices {
            precondition(i >= 0 && Int(i) < rows, "embeddingBag: index \(i) out of range 0..<\(rows) for table \(table.name)")
        }
        var out = Tensor(shape: [bags, width])
        let src = t.readPointer, dst = out.writePointer()
        let ahead = VectorKernels.prefetchDistance
        for b in 0..<bags {
            let lo = bounds[b], hi = bounds[b + 1]
            let scale: Float = reduction == .mean && hi > lo ? 1 / Float(hi - lo) : 1
            let o = dst + b * width
            for k in lo..<hi {
                if k + ahead < indices.count { VectorKernels.prefetch(src + Int(indices[k + ahead]) * width, count: width) }
                VectorKernels.addScaled(src + Int(indices[k]) * width, scale * (weights?[k] ?? 1), into: o, width)
            }
        }
        return recordSparse(out) { g, sink in
            var rowsGrad = Tensor(uninitializedShape: [indices.count, width])
            let pg = g.readPointer, pr = rowsGrad.writePointer()
            for b in 0..<bags {
                let lo = bounds[b], hi = bounds[b + 1]
                let scale: Float = reduction == .mean && hi > lo ? 1 / Float(hi - lo) : 1
                for k in lo..<hi {
                    VectorKernels.scaled(pg + b * width, scale * (weights?[k] ?? 1), into: pr + k * width, width)
                }
            }
            sink.accumulateSparse(table, SparseRows(indices: indices, values: rowsGrad, tableRows: rows))
        }
    }
}

/// A row-sparse gradient of a `[rows, width]` table: the listed rows carry values, all others are zero.
///
/// Indices may repeat (one entry per lookup); ``coalesced()`` sums duplicates.
public struct SparseRows: Sendable {
    /// Row indices, one per row of ``values``.
    public var indices: [Int32]
    /// The row values, shape `[indices.count, width]`.
    public var values: Tensor
    /// The number of rows of the full table.
    public let tableRows: Int

    /// Row values for the given rows of a table with `tableRows` rows.
    public init(indices: [Int32], values: Tensor, tableRows: Int) {
        precondition(values.rank == 2 && values.shape[0] == indices.count,
                     "SparseRows: \(indices.count) indices but values of shape \(values.shape)")
        self.indices = indices
        self.values = values
        self.tableRows = tableRows
    }

    /// The width of each row.
    public var width: Int { values.shape[1] }

    /// Appends another sparse gradient of the same table.
    public mutating func append(_ other: SparseRows) {
        precondition(other.width == width && other.tableRows == tableRows,
                     "SparseRows.append: tables differ ([\(tableRows), \(width)] vs [\(other.tableRows), \(other.width)])")
        indices += other.indices
        values = Tensor.concatenate([values, other.values], alongAxis: 0)
    }

    /// The same gradient with each row index once, in ascending order, duplicates summed in their
    /// original order (so the result is deterministic).
    public func coalesced() -> SparseRows {
        let n = indices.count
        if n == 0 { return self }
        // Sort (row, position) packed in one integer: fast, and positions keep duplicates in their
        // original order, so the summation order is fixed.
        var keys = [UInt64](repeating: 0, count: n)
        for (k, i) in indices.enumerated() { keys[k] = UInt64(UInt32(bitPattern: i)) << 32 | UInt64(k) }
        keys.sort()
        var unique: [Int32] = []
        unique.reserveCapacity(n)
        for key in keys {
            let row = Int32(bitPattern: UInt32(key >> 32))
            if unique.last != row { unique.append(row) }
        }
        let w = width
        var out = Tensor(shape: [unique.count, w])
        let src = values.readPointer, dst = out.writePointer()
        var u = -1
        var last: Int32 = -1
        let ahead = VectorKernels.prefetchDistance
        for (k, key) in keys.enumerated() {
            if k + ahead < n { VectorKernels.prefetch(src + Int(keys[k + ahead] & 0xFFFF_FFFF) * w, count: w) }
            let row = Int32(bitPattern: UInt32(key >> 32))
            if row != last { u += 1; last = row }
            VectorKernels.add(src + Int(key & 0xFFFF_FFFF) * w, into: dst + u * w, w)
        }
        return SparseRows(indices: unique, values: out, tableRows: tableRows)
    }

    /// Whether every index is unique (true after ``coalesced()``).
    public var isCoalesced: Bool {
        var previous: Int32 = -1
        for i in indices { if i <= previous { return false }; previous = i }
        return true
    }

    /// The equivalent dense `[tableRows, width]` gradient.
    public func densified() -> Tensor {
        var out = Tensor(shape: [tableRows, width])
        let src = values.readPointer, dst = out.writePointer()
        for (k, i) in indices.enumerated() { VectorKernels.add(src + k * width, into: dst + Int(i) * width, width) }
        return out
    }
}

/// Encoded examples: per row and field a bag of rows of the pipeline's shared embedding table,
/// each with a weight, laid out for one embedding-bag lookup (compressed sparse rows).
///
/// Bag `(r, f)` holds `indices[bagStarts[r·F + f] ..< bagStarts[r·F + f + 1]]` with the matching
/// `weights`, where `F` is ``fieldCount``. ``values`` has the standardised numeric features as
/// plain numbers too (`rowCount × valueFieldCount`, row-major), for models that feed them to a
/// network directly.
public struct EncodedFeatures: Sendable {
    /// The number of rows (examples).
    public let rowCount: Int
    /// The number of fields per row.
    public let fieldCount: Int
    /// Global row indices into the shared embedding table.
    public let indices: [Int32]
    /// One weight per index.
    public let weights: [Float]
    /// `rowCount · fieldCount + 1` bag boundaries into ``indices``.
    public let bagStarts: [Int]
    /// The number of standardised numeric fields.
    public let valueFieldCount: Int
    /// Their values, row-major.
    public let values: [Float]

    /// Encoded rows from their parts (sizes checked).
    public init(rowCount: Int, fieldCount: Int, indices: [Int32], weights: [Float], bagStarts: [Int],
                valueFieldCount: Int, values: [Float]) {
        precondition(indices.count == weights.count, "EncodedFeatures: \(indices.count) indices, \(weights.count) weights")
        precondition(bagStarts.count == rowCount * fieldCount + 1 && bagStarts.first == 0 && bagStarts.last == indices.count,
                     "EncodedFeatures: bag boundaries do not match \(rowCount) rows × \(fieldCount) fields")
        precondition(values.count == rowCount * valueFieldCount, "EncodedFeatures: values do not match \(rowCount) rows")
        self.rowCount = rowCount
        self.fieldCount = fieldCount
        self.indices = indices
        self.weights = weights
        self.bagStarts = bagStarts
        self.valueFieldCount = valueFieldCount
        self.values = values
    }

    /// Where each bag starts (one per row and field), the offsets of an embedding-bag lookup
    /// giving `[rowCount · fieldCount, width]`.
    public var bagOffsets: [Int] { Array(bagStarts.dropLast()) }

    /// Where each row's first bag starts: the offsets of an embedding-bag lookup that sums all of
    /// a row's fields (`[rowCount, width]`).
    public var rowOffsets: [Int] { (0..<rowCount).map { bagStarts[$0 * fieldCount] } }

    /// The rows `rows`, in that order.
    public func selecting(rows: some Collection<Int>) -> EncodedFeatures {
        selecting(rows: rows, fields: Array(0..<fieldCount))
    }

    /// The rows `rows` (in that order) restricted to the fields `fields` (in that order).
    public func selecting(rows: some Collection<Int>, fields: [Int]) -> EncodedFeatures {
        var outIndices: [Int32] = [], outWeights: [Float] = [], starts: [Int] = [0], outValues: [Float] = []
        let estimate = indices.count / Swift.max(rowCount, 1) * rows.count
        outIndices.reserveCapacity(estimate); outWeights.reserveCapacity(estimate)
        starts.reserveCapacity(rows.count * fields.count + 1)
        outValues.reserveCapacity(rows.count * valueFieldCount)
        for r in rows {
            for f in fields {
                let lo = bagStarts[r * fieldCount + f], hi = bagStarts[r * fieldCount + f + 1]
                outIndices.append(contentsOf: indices[lo..<hi])
                outWeights.append(contentsOf: weights[lo..<hi])
                starts.append(outIndices.count)
            }
            outValues.append(contentsOf: values[(r * valueFieldCount)..<((r + 1) * valueFieldCount)])
        }
        return EncodedFeatures(rowCount: rows.count, fieldCount: fields.count, indices: outIndices, weights: outWeights,
                               bagStarts: starts, valueFieldCount: valueFieldCount, values: outValues)
    }
}

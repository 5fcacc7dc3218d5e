import StarlingData
import StarlingTensor

/// The user–item graph of LightGCN and NGCF as one symmetric matrix `Â = D^-1/2 A D^-1/2` over
/// `users + items` nodes (users first, then items), stored row by row.
///
/// ``propagate(_:into:rows:width:threads:)`` computes `out[r] = Σ_c Â[r, c]·in[c]` for chosen
/// rows only, which is what makes LightGCN's training steps cheaper than full sparse products:
/// a step needs layer `k` only within `K - k` hops of the batch's nodes.
public struct NormalizedBipartiteGraph: Sendable {
    public let userCount: Int
    public let itemCount: Int
    /// Row `r`'s neighbours are `neighbours[rowStart[r] ..< rowStart[r + 1]]`.
    public let rowStart: [Int]
    public let neighbours: [Int32]
    /// `1 / √(deg(r)·deg(c))` per stored entry.
    public let weights: [Float]

    public var nodeCount: Int { userCount + itemCount }
    /// Stored entries: twice the number of distinct interactions.
    public var entryCount: Int { neighbours.count }

    /// The graph of `interactions` (values ignored; a repeated pair counts once).
    public init(_ interactions: InteractionMatrix) {
        userCount = interactions.userCount
        itemCount = interactions.itemCount
        let n = userCount + itemCount
        let byItem = interactions.transposed()
        var degree = [Float](repeating: 0, count: n)
        var start = [0]
        start.reserveCapacity(n + 1)
        var neighbours: [Int32] = []
        neighbours.reserveCapacity(2 * interactions.count)
        func distinct(_ row: ArraySlice<Int32>) -> [Int32] {
            var out: [Int32] = []
            out.reserveCapacity(row.count)
            for x in row.sorted() where out.last != x { out.append(x) }
            return out
        }
        for u in 0..<userCount {
            for i in distinct(interactions.items(of: u)) { neighbours.append(Int32(userCount) + i) }
            start.append(neighbours.count)
        }
        for i in 0..<itemCount {
            for u in distinct(byItem.items(of: i)) { neighbours.append(u) }
            start.append(neighbours.count)
        }
        for r in 0..<n { degree[r] = Float(start[r + 1] - start[r]) }
        var weights = [Float](repeating: 0, count: neighbours.count)
        for r in 0..<n {
            for e in start[r]..<start[r + 1] {
                weights[e] = 1 / (degree[r] * degree[Int(neighbours[e])]).squareRoot()
            }
        }
        self.rowStart = start
        self.neighbours = neighbours
        self.weights = weights
    }

    /// The number of neighbours of node `r`.
    public func degree(_ r: Int) -> Int { rowStart[r + 1] - rowStart[r] }

    /// `output[r] = Σ_c Â[r, c]·input[c]` for each row `r` in `rows` (every row when `nil`);
    /// other rows of `output` are left alone. Both buffers are `nodeCount × width`.
    public func propagate(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: [Int32]? = nil,
                          width: Int, threads: Int) {
        let count = rows?.count ?? nodeCount
        let partCount = max(1, min(threads, count / 256))
        // All rows: split where the entries (the work) divide evenly, not the rows.
        let parts = rows != nil ? Parallel.ranges(count, parts: partCount) : (0..<partCount).map { p -> Range<Int> in
            func boundary(_ q: Int) -> Int { q == partCount ? nodeCount : rowStart.partitionPoint { $0 < entryCount * q / partCount } }
            return boundary(p)..<boundary(p + 1)
        }
        let (input, output) = (SharedPointer(UnsafeMutablePointer(mutating: input)), SharedPointer(output))
        Parallel.forEach(parts.count) { p in
            rowStart.withUnsafeBufferPointer { start in
                neighbours.withUnsafeBufferPointer { columns in
                    weights.withUnsafeBufferPointer { weights in
                        for k in parts[p] {
                            let r = rows.map { Int($0[k]) } ?? k
                            let lo = start[r]
                            Self.weightedSum(input.base, columns: columns.baseAddress! + lo, weights: weights.baseAddress! + lo,
                                             count: start[r + 1] - lo, width: width, into: output.base + r * width)
                        }
                    }
                }
            }
        }
    }

    /// `output[c] += Â[r, c]·input[r]` for every `r` in `rows` and each of its neighbours `c`: the
    /// same product as ``propagate(_:into:rows:width:threads:)`` when `input` is zero outside
    /// `rows`, at the cost of `rows`' entries instead of the receiving rows' entries. Users' rows
    /// feed items and items' rows feed users, so the two sides run concurrently without sharing
    /// an output row.
    public func scatter(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: [Int32], width: Int, threads: Int) {
        let sides = [rows.filter { Int($0) < userCount }, rows.filter { Int($0) >= userCount }]
        let (input, output) = (SharedPointer(UnsafeMutablePointer(mutating: input)), SharedPointer(output))
        let body: @Sendable (Int) -> Void = { side in
            rowStart.withUnsafeBufferPointer { start in
                neighbours.withUnsafeBufferPointer { columns in
                    weights.withUnsafeBufferPointer { weights in
                        for r in sides[side] {
                            let source = input.base + Int(r) * width
                            for e in start[Int(r)]..<start[Int(r) + 1] {
                                VectorKernels.addScaled(source, weights[e], into: output.base + Int(columns[e]) * width, width)
                            }
                        }
                    }
                }
            }
        }
        if threads > 1 { Parallel.forEach(2, body) } else { body(0); body(1) }
    }

    /// The number of stored entries of `rows` (the work of a product over them).
    public func entryCount(of rows: [Int32]) -> Int { rows.reduce(0) { $0 + degree(Int($1)) } }

    /// `out = Σₑ weights[e]·input[columns[e]]` over rows of `width` floats, accumulated in
    /// registers 64 columns at a time (one load per input row and block, one store per block).
    @inline(__always)
    static func weightedSum(_ input: UnsafePointer<Float>, columns: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
                            count: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        typealias V = VectorKernels.V
        let ahead = VectorKernels.prefetchDistance
        var column = 0
        while column + 64 <= width {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            for e in 0..<count {
                if e + ahead < count { VectorKernels.prefetch(input + Int(columns[e + ahead]) * width + column, count: 64) }
                let src = input + Int(columns[e]) * width + column
                let w = V(repeating: weights[e])
                a0.addProduct(w, VectorKernels.load(src))
                a1.addProduct(w, VectorKernels.load(src + 16))
                a2.addProduct(w, VectorKernels.load(src + 32))
                a3.addProduct(w, VectorKernels.load(src + 48))
            }
            VectorKernels.store(a0, out + column); VectorKernels.store(a1, out + column + 16)
            VectorKernels.store(a2, out + column + 32); VectorKernels.store(a3, out + column + 48)
            column += 64
        }
        while column + 16 <= width {
            var a = V()
            for e in 0..<count { a.addProduct(V(repeating: weights[e]), VectorKernels.load(input + Int(columns[e]) * width + column)) }
            VectorKernels.store(a, out + column)
            column += 16
        }
        while column < width {
            var a: Float = 0
            for e in 0..<count { a += weights[e] * input[Int(columns[e]) * width + column] }
            out[column] = a
            column += 1
        }
    }

    /// The nodes within one hop of `nodes` (including them), given `nodes` marked in `mark` with
    /// `stamp`; marks the added nodes with `stamp` too.
    func expand(_ nodes: [Int32], mark: inout [UInt32], stamp: UInt32) -> [Int32] {
        var out = nodes
        for r in nodes {
            for e in rowStart[Int(r)]..<rowStart[Int(r) + 1] {
                let c = Int(neighbours[e])
                if mark[c] != stamp { mark[c] = stamp; out.append(Int32(c)) }
            }
        }
        return out
    }
}

extension Array where Element == Int {
    /// The first index whose element fails `belongs` (the array must be partitioned by it).
    fileprivate func partitionPoint(_ belongs: (Int) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(self[mid]) { lo = mid + 1 } else { hi = mid }
        }
        return Swift.min(lo, count - 1)
    }
}

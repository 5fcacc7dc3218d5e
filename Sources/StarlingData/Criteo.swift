import Foundation

/// Criteo Display Advertising Challenge rows (`train.txt`, `dac_sample.txt`, and the samples
/// under `ctr-criteo-avazu-sample/criteo/*.csv`, which are TAB-separated despite the name): no
/// header, 40 columns per row: the label (0/1), 13 integer features `I1…I13` and 26 categorical
/// features `C1…C26` (8-hex-digit hashes); an empty field is a missing value.
public enum Criteo {
    /// The number of integer features.
    public static let denseCount = 13
    /// The number of categorical features.
    public static let categoricalCount = 26

    /// Reads one file into a ``CTRTable``.
    ///
    /// - Parameters:
    ///   - vocabularies: the per-field vocabularies to start from (for example the training
    ///     table's, so that a test table uses the same indices); `nil` starts empty.
    ///   - frozen: when true, values not in `vocabularies` get index 0 (unknown) instead of a new
    ///     index.
    public static func load(_ url: URL, options: ReadOptions = ReadOptions(), vocabularies: [IdVocabulary]? = nil,
                            frozen: Bool = false) throws(DataError) -> CTRTable {
        let text = try DelimitedText(contentsOf: url, encoding: options.encoding ?? .utf8)
        var interners: [HashInterner]
        if let vocabularies {
            precondition(vocabularies.count == categoricalCount, "Criteo.load: \(vocabularies.count) vocabularies for \(categoricalCount) fields")
            interners = vocabularies.map(HashInterner.init)
        } else {
            interners = (0..<categoricalCount).map { _ in HashInterner() }
        }
        let expectedRows = text.approximateLineCount
        var labels: [Float] = [], dense: [Float] = [], categorical: [Int32] = []
        labels.reserveCapacity(expectedRows)
        dense.reserveCapacity(expectedRows * denseCount)
        categorical.reserveCapacity(expectedRows * categoricalCount)
        var report = ReadReport(path: url.path)
        var rowDense = [Float](repeating: 0, count: denseCount)
        var rowKeys = [HashInterner.Key?](repeating: nil, count: categoricalCount)
        try text.forEachLine(.tab, options: options, report: &report) { line throws(DataError) in
            guard line.count == 1 + denseCount + categoricalCount else {
                throw line.malformed("expected \(1 + denseCount + categoricalCount) TAB-separated fields (label, I1…I13, C1…C26), found \(line.count)")
            }
            let label = try line.int(0, name: "label")
            guard label == 0 || label == 1 else { throw line.malformed("field 1 (label) is \(label), not 0 or 1") }
            for f in 0..<denseCount {
                rowDense[f] = try line.optionalInt(1 + f, name: "I\(f + 1)").map { Float($0) } ?? .nan
            }
            for f in 0..<categoricalCount {
                rowKeys[f] = line.isEmpty(1 + denseCount + f) ? nil : HashInterner.key(line, 1 + denseCount + f)
            }
            labels.append(Float(label))
            dense.append(contentsOf: rowDense)
            for f in 0..<categoricalCount {
                guard let key = rowKeys[f] else { categorical.append(0); continue }
                categorical.append(frozen ? (interners[f].lookup(key) ?? 0) : interners[f].intern(key))
            }
        }
        return CTRTable(labels: labels, denseNames: (1...denseCount).map { "I\($0)" }, dense: dense,
                        categoricalNames: (1...categoricalCount).map { "C\($0)" }, categorical: categorical,
                        vocabularies: interners.map { $0.vocabulary }, report: report)
    }
}

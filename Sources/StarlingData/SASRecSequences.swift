import Foundation

/// Sequence files as published with SASRec (Kang & McAuley 2018; `data/Video.txt`,
/// `ml-1m.txt`, …): `user item` per line (spaces or tabs), each user's lines contiguous and in
/// time order; no timestamps, so the line order is the sequence.
///
/// The dataset has ``EventType/interaction`` events of value 1 and no timestamps; every
/// time-ordered operation (``DatasetSplit/leaveOneOut(_:validation:)``, ``SequenceSplit``) uses
/// the file order.
public enum SASRecSequences {
    /// Reads a sequence file.
    public static func load(_ url: URL, options: ReadOptions = ReadOptions(), name: String? = nil) throws(DataError) -> Dataset {
        let text = try DelimitedText(contentsOf: url, encoding: options.encoding ?? .utf8)
        var b = DatasetBuilder(hasTimestamps: false)
        var report = ReadReport(path: url.path)
        b.events.reserveCapacity(text.approximateLineCount)
        let code = b.events.code(for: .interaction)!
        try text.forEachLine(.whitespace, options: options, report: &report) { line throws(DataError) in
            guard line.count == 2 else { throw line.malformed("expected 2 fields (user item), found \(line.count)") }
            let u = try IdInterner.intKey(line, 0, name: "user id")
            let i = try IdInterner.intKey(line, 1, name: "item id")
            b.events.append(user: b.user(u), item: b.item(i), typeCode: code, value: 1, timestamp: 0)
        }
        b.reports.append(report)
        return b.build(name: name ?? url.deletingPathExtension().lastPathComponent, order: options.idOrder)
    }

    /// The SASRec Amazon "Games" file under `root/sasrec/Video.txt` (see ``DataRoot``).
    public static func games(root: URL, options: ReadOptions = ReadOptions()) throws(DataError) -> Dataset {
        try load(try DataRoot.dataset("sasrec", in: root).appendingPathComponent("Video.txt"), options: options, name: "sasrec-games")
    }
}

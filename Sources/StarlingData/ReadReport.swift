/// How a reader treats its input.
public struct ReadOptions: Sendable {
    /// What happens to a line that does not have the expected form.
    public enum MalformedLines: Sendable, Equatable {
        /// Stop with a ``DataError/malformedLine(path:line:reason:)`` naming the file and line.
        case fail
        /// Leave the line out, count it in the ``ReadReport`` and go on.
        case skip
    }

    /// What happens to a malformed line (default: fail).
    public var malformedLines: MalformedLines
    /// How many skip reasons a report keeps (the count of skipped lines is always exact).
    public var reasonLimit: Int
    /// The text encoding of the files; `nil` uses the format's documented encoding
    /// (Latin-1 for the old MovieLens files, UTF-8 elsewhere).
    public var encoding: TextEncoding?
    /// The order of dense indices given to external ids.
    public var idOrder: IdOrder

    /// Options; by default malformed lines fail, ids are sorted, and each format's own encoding is used.
    public init(malformedLines: MalformedLines = .fail, reasonLimit: Int = 5, encoding: TextEncoding? = nil,
                idOrder: IdOrder = .sorted) {
        self.malformedLines = malformedLines
        self.reasonLimit = reasonLimit
        self.encoding = encoding
        self.idOrder = idOrder
    }

    /// Skip malformed lines and report them.
    public static var skippingMalformedLines: ReadOptions { ReadOptions(malformedLines: .skip) }
}

/// What a reader did with one file: how many records it read, how many it skipped, and why.
public struct ReadReport: Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public let path: String
    /// Non-empty records seen (header lines not counted), skipped ones included.
    public var linesRead: Int
    /// Records left out because they were malformed.
    public var linesSkipped: Int
    /// The first few reasons for skipping, each `path:line: reason`.
    public var reasons: [String]

    /// A report for `path`, empty unless given.
    public init(path: String, linesRead: Int = 0, linesSkipped: Int = 0, reasons: [String] = []) {
        self.path = path
        self.linesRead = linesRead
        self.linesSkipped = linesSkipped
        self.reasons = reasons
    }

    /// Records that were used.
    public var linesAccepted: Int { linesRead - linesSkipped }

    /// Counts a skipped record, keeping its reason while fewer than `limit` are kept.
    public mutating func recordSkip(_ error: DataError, limit: Int) {
        linesSkipped += 1
        if reasons.count < limit { reasons.append(error.description) }
    }

    public var description: String {
        var text = "\(path): \(linesRead) lines read, \(linesSkipped) skipped"
        if !reasons.isEmpty { text += " (" + reasons.joined(separator: "; ") + (linesSkipped > reasons.count ? "; …" : "") + ")" }
        return text
    }
}

/// A problem with input data, naming the file and, where it applies, the line and field.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// A file that should exist does not.
    case missingFile(path: String, hint: String)
    /// A file exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// A line does not have the expected form.
    case malformedLine(path: String, line: Int, reason: String)
    /// No dataset folder was found.
    case noDataRoot(tried: [String])
    /// Two files of one dataset disagree.
    case inconsistent(path: String, reason: String)
    /// A file's checksum is not the published one (a corrupt or different download).
    case checksumMismatch(path: String, expected: String, actual: String)
    /// A download failed.
    case downloadFailed(url: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path, hint): return "\(path): file not found\(hint.isEmpty ? "" : " (\(hint))")"
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .malformedLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .noDataRoot(tried):
            return "no dataset folder found; pass --data PATH or set STARLING_DATA (tried: \(tried.joined(separator: ", ")))"
        case let .inconsistent(path, reason): return "\(path): \(reason)"
        case let .checksumMismatch(path, expected, actual):
            return "\(path): checksum mismatch: expected \(expected), found \(actual) (corrupt or different download; delete it and fetch again)"
        case let .downloadFailed(url, reason): return "\(url): download failed: \(reason)"
        }
    }
}

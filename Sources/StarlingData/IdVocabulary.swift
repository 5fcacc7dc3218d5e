import Foundation

/// The order in which a reader numbers the external ids it meets.
public enum IdOrder: String, Sendable, Codable {
    /// Numeric ids in ascending numeric order, then any other ids in ascending byte order
    /// (MovieLens ids `1…n` become indices `0…n-1`).
    case sorted
    /// The order of first appearance in the input (RecBole's remapping).
    case firstSeen
}

/// A two-way map between external string ids (`"196"`, `"u_42"`, a hash) and dense `Int32`
/// indices `0..<count`, the rows and columns of the model's tables. The map is part of a trained
/// model: save it beside the weights and load it back with the same indices (as JSON,
/// `{"ids":[...]}`, or as text, one id per line where line `k + 1` is index `k`).
public struct IdVocabulary: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The id of each index.
    public private(set) var ids: [String]
    private var indexByID: [String: Int32]

    /// An empty vocabulary.
    public init() {
        ids = []
        indexByID = [:]
    }

    /// A vocabulary whose index `k` is `ids[k]`; the ids must be distinct.
    public init(ids: [String]) throws(DataError) {
        var index: [String: Int32] = [:]
        index.reserveCapacity(ids.count)
        guard ids.count <= Int(Int32.max) else {
            throw .inconsistent(path: "<vocabulary>", reason: "\(ids.count) ids do not fit in Int32 indices")
        }
        for (k, id) in ids.enumerated() {
            if let previous = index.updateValue(Int32(k), forKey: id) {
                throw .inconsistent(path: "<vocabulary>", reason: "id '\(id)' appears at indices \(previous) and \(k)")
            }
        }
        self.ids = ids
        indexByID = index
    }

    /// The number of ids.
    public var count: Int { ids.count }

    /// The index of `id`, or `nil` if it is unknown.
    @inlinable
    public func index(of id: String) -> Int32? { lookup(id) }

    @usableFromInline
    func lookup(_ id: String) -> Int32? { indexByID[id] }

    /// The id at `index`.
    public subscript(index: Int32) -> String { ids[Int(index)] }

    /// The id at `index`.
    public func id(at index: Int) -> String { ids[index] }

    /// Whether `id` is known.
    public func contains(_ id: String) -> Bool { indexByID[id] != nil }

    /// The index of `id`, adding it at the end if it is new.
    @discardableResult
    public mutating func insert(_ id: String) -> Int32 {
        if let k = indexByID[id] { return k }
        precondition(ids.count < Int(Int32.max), "IdVocabulary: more than Int32.max ids")
        let k = Int32(ids.count)
        ids.append(id)
        indexByID[id] = k
        return k
    }

    /// The vocabulary of the indices in `kept`, renumbered `0..<kept.count` in that order.
    public func subset(_ kept: [Int32]) -> IdVocabulary {
        // The ids of distinct indices are distinct.
        var v = IdVocabulary()
        v.ids = kept.map { ids[Int($0)] }
        v.indexByID.reserveCapacity(kept.count)
        for (k, id) in v.ids.enumerated() { v.indexByID[id] = Int32(k) }
        precondition(v.indexByID.count == kept.count, "IdVocabulary.subset: repeated indices")
        return v
    }

    public static func == (a: IdVocabulary, b: IdVocabulary) -> Bool { a.ids == b.ids }

    public var description: String {
        "IdVocabulary(\(count) ids" + (ids.isEmpty ? ")" : ": \(ids.prefix(3).joined(separator: ", "))\(count > 3 ? ", …" : ""))")
    }

    // MARK: - Codable

    private enum CodingKeys: String, CodingKey { case ids }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let ids = try container.decode([String].self, forKey: .ids)
        do { try self.init(ids: ids) } catch {
            throw DecodingError.dataCorruptedError(forKey: .ids, in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ids, forKey: .ids)
    }

    // MARK: - Files

    /// A file format for a vocabulary.
    public enum FileFormat: String, Sendable {
        /// `{"ids":["196","186",…]}`.
        case json
        /// One id per line, UTF-8, `\n` after each; line `k + 1` is index `k`. Ids cannot contain
        /// line breaks or end in a carriage return.
        case text
    }

    /// Writes the vocabulary to `url` (atomically).
    public func save(to url: URL, format: FileFormat = .json) throws(DataError) {
        let data: Data
        switch format {
        case .json:
            do { data = try JSONEncoder().encode(self) } catch {
                throw .unreadable(path: url.path, reason: "cannot encode the vocabulary: \(error)")
            }
        case .text:
            var text = ""
            text.reserveCapacity(ids.count * 8)
            for (k, id) in ids.enumerated() {
                if id.contains("\n") || id.hasSuffix("\r") || id.contains("\r\n") {
                    throw .inconsistent(path: url.path, reason: "id at index \(k) contains a line break; save as JSON instead")
                }
                text += id
                text += "\n"
            }
            data = Data(text.utf8)
        }
        do { try data.write(to: url, options: .atomic) } catch {
            throw .unreadable(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a vocabulary written by ``save(to:format:)``; the format is recognised from the
    /// first byte (`{` for JSON).
    public static func load(from url: URL) throws(DataError) -> IdVocabulary {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path, hint: "") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .unreadable(path: url.path, reason: error.localizedDescription) }
        if data.first == UInt8(ascii: "{") {
            do { return try JSONDecoder().decode(IdVocabulary.self, from: data) } catch {
                throw .unreadable(path: url.path, reason: "not a vocabulary JSON file: \(error)")
            }
        }
        let bytes = [UInt8](data)
        var ids: [String] = []
        var start = 0
        for k in 0..<bytes.count where bytes[k] == 10 {
            var end = k
            if end > start && bytes[end - 1] == 13 { end -= 1 }
            ids.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = k + 1
        }
        if start < bytes.count {
            throw .malformedLine(path: url.path, line: ids.count + 1, reason: "the last id has no line end (truncated file?)")
        }
        do { return try IdVocabulary(ids: ids) } catch {
            if case let .inconsistent(_, reason) = error { throw .inconsistent(path: url.path, reason: reason) }
            throw error
        }
    }
}

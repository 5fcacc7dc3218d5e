import Foundation
import GRDB

/// Item and user metadata (and experiment definitions) in an SQLite file through GRDB.
///
/// Events are not here: they live in the event log. Listing pages by id (`id > cursor`), so a
/// cursor stays valid while rows are added or removed.
public final class Catalogue: Sendable {
    private let db: DatabasePool
    public let path: String

    /// Opens (creating) the catalogue at `url`.
    public init(url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        path = url.path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        db = try DatabasePool(path: url.path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, title TEXT, categories TEXT NOT NULL, tags TEXT NOT NULL,
                                    hidden INTEGER NOT NULL, attributes TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
                CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, attributes TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
                CREATE TABLE experiments (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);
                """)
        }
        try migrator.migrate(db)
    }

    // MARK: items

    /// Adds `item`; a conflict if its id exists.
    public func insertItem(_ item: CatalogueItem) throws {
        try db.write { db in
            guard try Self.item(db, item.id) == nil else { throw ServiceError.conflict("item '\(item.id)' already exists") }
            try Self.writeItem(db, item)
        }
    }

    /// Adds or replaces every item of `items` in one transaction (bulk import).
    public func upsertItems(_ items: [CatalogueItem]) throws {
        try db.write { db in for item in items { try Self.writeItem(db, item) } }
    }

    /// Applies `patch` to item `id` and returns the result; not found if it does not exist.
    public func updateItem(_ id: String, _ patch: CatalogueItemPatch, now: Int64) throws -> CatalogueItem {
        try db.write { db in
            guard var item = try Self.item(db, id) else { throw ServiceError.notFound("item '\(id)' does not exist") }
            if let v = patch.title { item.title = v }
            if let v = patch.categories { item.categories = v }
            if let v = patch.tags { item.tags = v }
            if let v = patch.hidden { item.hidden = v }
            if let v = patch.attributes { item.attributes.merge(patch: v) }
            item.updated = now
            try Self.writeItem(db, item)
            return item
        }
    }

    public func item(_ id: String) throws -> CatalogueItem? { try db.read { try Self.item($0, id) } }

    /// Removes item `id`; whether it existed.
    public func deleteItem(_ id: String) throws -> Bool { try delete(from: "items", id: id) }

    /// Removes the row `id` of `table`; whether it existed.
    private func delete(from table: String, id: String) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// Items with ids after `cursor`, in id order, at most `limit`.
    public func items(after cursor: String?, limit: Int) throws -> CataloguePage<CatalogueItem> {
        try page("items", after: cursor, limit: limit, decode: Self.decodeItem, id: \.id)
    }

    /// One page of `table` by id, with the cursor of the next page.
    private func page<T>(_ table: String, after cursor: String?, limit: Int, decode: (Row) throws -> T,
                         id: (T) -> String) throws -> CataloguePage<T> {
        let rows = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(table) WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor ?? "", limit])
        }
        let page = try rows.map(decode)
        return CataloguePage(items: page, nextCursor: page.count == limit ? page.last.map(id) : nil)
    }

    /// Every item (the engine's start-up load).
    public func allItems() throws -> [CatalogueItem] {
        try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM items ORDER BY id") }.map(Self.decodeItem)
    }

    private static func item(_ db: Database, _ id: String) throws -> CatalogueItem? {
        try Row.fetchOne(db, sql: "SELECT * FROM items WHERE id = ?", arguments: [id]).map(decodeItem)
    }

    private static func writeItem(_ db: Database, _ item: CatalogueItem) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO items (id, title, categories, tags, hidden, attributes, created, updated)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [item.id, item.title, try json(item.categories), try json(item.tags), item.hidden,
                             try json(item.attributes), item.created, item.updated])
    }

    private static func decodeItem(_ row: Row) throws -> CatalogueItem {
        CatalogueItem(id: row["id"], title: row["title"], categories: try unjson(row["categories"]), tags: try unjson(row["tags"]),
                      hidden: row["hidden"], attributes: try unjson(row["attributes"]), created: row["created"], updated: row["updated"])
    }

    // MARK: users

    /// Adds `user`; a conflict if its id exists.
    public func insertUser(_ user: CatalogueUser) throws {
        try db.write { db in
            guard try Self.user(db, user.id) == nil else { throw ServiceError.conflict("user '\(user.id)' already exists") }
            try Self.writeUser(db, user)
        }
    }

    /// Merges `attributes` into user `id`'s (a string sets a key, nil removes it); not found if
    /// the user does not exist.
    public func updateUser(_ id: String, attributes: [String: String?], now: Int64) throws -> CatalogueUser {
        try db.write { db in
            guard var user = try Self.user(db, id) else { throw ServiceError.notFound("user '\(id)' does not exist") }
            user.attributes.merge(patch: attributes)
            user.updated = now
            try Self.writeUser(db, user)
            return user
        }
    }

    public func user(_ id: String) throws -> CatalogueUser? { try db.read { try Self.user($0, id) } }

    /// Removes user `id`; whether it existed.
    public func deleteUser(_ id: String) throws -> Bool { try delete(from: "users", id: id) }

    /// Users with ids after `cursor`, in id order, at most `limit`.
    public func users(after cursor: String?, limit: Int) throws -> CataloguePage<CatalogueUser> {
        try page("users", after: cursor, limit: limit, decode: Self.decodeUser, id: \.id)
    }

    private static func user(_ db: Database, _ id: String) throws -> CatalogueUser? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(decodeUser)
    }

    private static func writeUser(_ db: Database, _ user: CatalogueUser) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO users (id, attributes, created, updated) VALUES (?, ?, ?, ?)",
                       arguments: [user.id, try json(user.attributes), user.created, user.updated])
    }

    private static func decodeUser(_ row: Row) throws -> CatalogueUser {
        CatalogueUser(id: row["id"], attributes: try unjson(row["attributes"]), created: row["created"], updated: row["updated"])
    }

    // MARK: experiments

    /// Stores `experiment` (definition and counters), replacing an earlier copy.
    public func saveExperiment(_ experiment: Experiment) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO experiments (id, body) VALUES (?, ?)",
                           arguments: [experiment.id, try Self.json(experiment)])
        }
    }

    /// Every stored experiment.
    public func experiments() throws -> [Experiment] {
        try db.read { db in try String.fetchAll(db, sql: "SELECT body FROM experiments ORDER BY id") }.map { try Self.unjson($0) }
    }

    // MARK: JSON columns

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func unjson<T: Decodable>(_ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

/// Server-side prepared statements of one connection, by SQL text and parameter types, least recently
/// used evicted first. The parameter types are part of the key: the same text bound as `int4` and as
/// `int8` needs two statements, since a prepared statement's parameter types are fixed.
struct StatementCache {
    struct Entry {
        let name: String
        var lastUse: UInt64
    }

    /// SQL text and parameter types. A struct rather than one joined String: building a key then
    /// copies nothing (both parts share the query's storage).
    struct Key: Hashable, Sendable {
        let sql: String
        let types: [PostgresType]
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private var nextName = 0

    init(capacity: Int) { self.capacity = max(capacity, 1) }

    var count: Int { entries.count }

    static func key(sql: String, types: [PostgresType]) -> Key { Key(sql: sql, types: types) }

    /// The statement name for `key` if it is prepared, marking it used.
    mutating func lookup(_ key: Key) -> String? {
        guard let index = entries.index(forKey: key) else { return nil }
        clock += 1
        entries.values[index].lastUse = clock
        return entries.values[index].name
    }

    /// Adds a new statement name for `key`; returns it and the names of statements evicted to make room.
    mutating func insert(_ key: Key) -> (name: String, evicted: [String]) {
        var evicted: [String] = []
        while entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
            evicted.append(oldest.value.name)
        }
        nextName += 1
        clock += 1
        let name = "tk_\(nextName)"
        entries[key] = Entry(name: name, lastUse: clock)
        return (name, evicted)
    }

    /// Forgets `key` (its prepare failed, or the server invalidated it).
    mutating func remove(_ key: Key) { entries[key] = nil }

    mutating func removeAll() { entries.removeAll() }
}

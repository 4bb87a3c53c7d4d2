/// Something that runs statements: a connection, a pool, or a scope built on them.
/// The same few verbs work on each.
public protocol PostgresExecutor: Sendable {
    /// Runs one statement and returns its rows.
    func query(_ query: PostgresQuery) async throws -> PostgresRows
    /// Runs statements in one round trip, atomically; one result per statement.
    func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows]
}

extension PostgresExecutor {
    /// Runs a statement and returns the number of rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Every row, decoded (see ``PostgresRow/decode(as:)``).
    @_disfavoredOverload
    public func fetchAll<T: Decodable>(_ query: PostgresQuery, as type: T.Type) async throws -> [T] {
        try await self.query(query).decode(as: type)
    }

    /// The first row, decoded, or nil when there is none.
    @_disfavoredOverload
    public func fetchOptional<T: Decodable>(_ query: PostgresQuery, as type: T.Type) async throws -> T? {
        let rows = try await self.query(query)
        return try rows.first?.decode(as: type)
    }

    /// The first row, decoded; throws when there is none.
    @_disfavoredOverload
    public func fetchOne<T: Decodable>(_ query: PostgresQuery, as type: T.Type) async throws -> T {
        guard let value = try await fetchOptional(query, as: type) else {
            throw PostgresClientError(.noRows, "the query returned no rows")
        }
        return value
    }
}

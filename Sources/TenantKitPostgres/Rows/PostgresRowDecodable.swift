/// A type that reads itself from a row by column position: no keyed container, no lookup by
/// name, each cell decoded by code specialized for its type. The fastest way to turn many rows
/// into structs; `Decodable` stays for convenience.
///
/// ```swift
/// struct Item: PostgresRowDecodable {
///     let id: UUID, slug: String, isPublic: Bool
///     init(row: PostgresRow) throws {
///         id = try row.decode(at: 0)
///         slug = try row.decode(at: 1)
///         isPublic = try row.decode(at: 2)
///     }
/// }
/// let items = try await pool.fetchAll("SELECT id, slug, org_id IS NULL FROM catalog_items", as: Item.self)
/// ```
///
/// Reading each column with ``PostgresRow/decode(_:at:)`` is the fastest form (each call is
/// specialized for its type); the tuple form ``PostgresRow/decode(_:)`` is shorter and a little
/// slower. A type that is also `Decodable` (say, for JSON) decodes from rows through `init(row:)`.
public protocol PostgresRowDecodable {
    /// Reads the value from `row`, usually with ``PostgresRow/decode(_:)``.
    init(row: PostgresRow) throws
}

extension PostgresRow {
    /// The row through `T.init(row:)`.
    @inlinable
    public func decode<T: PostgresRowDecodable>(as type: T.Type) throws -> T { try T(row: self) }
}

extension PostgresRows {
    /// Every row through `T.init(row:)`.
    @inlinable
    public func decode<T: PostgresRowDecodable>(as type: T.Type) throws -> [T] {
        var values: [T] = []
        values.reserveCapacity(count)
        for row in 0..<count { values.append(try T(row: self[row])) }
        return values
    }
}

extension PostgresExecutor {
    /// Every row, through `T.init(row:)`.
    public func fetchAll<T: PostgresRowDecodable>(_ query: PostgresQuery, as type: T.Type) async throws -> [T] {
        try await self.query(query).decode(as: type)
    }

    /// The first row through `T.init(row:)`, or nil when there is none.
    public func fetchOptional<T: PostgresRowDecodable>(_ query: PostgresQuery, as type: T.Type) async throws -> T? {
        try await self.query(query).first.map(T.init(row:))
    }

    /// The first row through `T.init(row:)`; throws when there is none.
    public func fetchOne<T: PostgresRowDecodable>(_ query: PostgresQuery, as type: T.Type) async throws -> T {
        guard let value = try await fetchOptional(query, as: type) else {
            throw PostgresClientError(.noRows, "the query returned no rows")
        }
        return value
    }
}

import CLibPQ

/// A column of a result: its name and PostgreSQL type.
public struct PostgresColumn: Sendable, Hashable {
    public let name: String
    public let type: PostgresType
}

/// The rows of one statement's result, decoded lazily from libpq's buffer (no copy per row).
///
/// ```swift
/// let rows = try await conn.query("SELECT id, name FROM users ORDER BY name")
/// for row in rows {
///     let (id, name) = try row.decode(UUID.self, String.self)
/// }
/// ```
public final class PostgresRows: RandomAccessCollection, @unchecked Sendable {
    // @unchecked: the PGresult is never mutated after libpq hands it over, and libpq documents
    // reading one result from several threads as safe; it is freed once, in deinit.
    @usableFromInline let result: OpaquePointer
    /// The columns, in order.
    public let columns: [PostgresColumn]
    /// The columns' types, apart from their names so that reading one per cell copies no string.
    @usableFromInline let columnTypes: [PostgresType]
    /// Rows the statement returned.
    public let count: Int
    /// The command tag, such as `INSERT 0 3` or `SELECT 10`.
    public let commandTag: String
    /// Rows inserted, updated, deleted, selected (from the command tag), or 0.
    public let affectedRows: Int
    private let columnIndex: [String: Int]

    init(taking result: OpaquePointer) {
        self.result = result
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresColumn] = []
        var index: [String: Int] = [:]
        columns.reserveCapacity(columnCount)
        for i in 0..<columnCount {
            let name = String(cString: PQfname(result, Int32(i)))
            columns.append(PostgresColumn(name: name, type: PostgresType(oid: PQftype(result, Int32(i)))))
            if index[name] == nil { index[name] = i }  // a repeated name finds its first column
        }
        self.columns = columns
        self.columnTypes = columns.map(\.type)
        self.columnIndex = index
        self.count = Int(PQntuples(result))
        self.commandTag = String(cString: PQcmdStatus(result))
        self.affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    deinit { PQclear(result) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    @inlinable
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// The index of the column with this name (the first, if several share it).
    public func columnIndex(of name: String) -> Int? { columnIndex[name] }

    /// Decodes one cell; `row` and `column` must be in range. Inlinable so that each call site
    /// specializes it for its type: the hot loop of every row decode.
    @inlinable
    func decodeCell<T: PostgresDecodable>(_: T.Type, row: Int, column: Int) throws -> T {
        let type = columnTypes[column]
        do {
            if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                return try T.decode(from: nil, type: type)
            }
            let length = Int(PQgetlength(result, Int32(row), Int32(column)))
            let pointer = UnsafeRawPointer(PQgetvalue(result, Int32(row), Int32(column))!)
            return try T.decode(from: PostgresBytes(UnsafeRawBufferPointer(start: pointer, count: length)), type: type)
        } catch let failure as PostgresDecodingFailure {
            throw decodingError(failure, swiftType: T.self, column: column)
        }
    }

    @usableFromInline
    func decodingError(_ failure: PostgresDecodingFailure, swiftType: Any.Type, column: Int) -> PostgresDecodingError {
        PostgresDecodingError(
            column: columns[column].name, index: column, swiftType: "\(swiftType)", postgresType: columnTypes[column], reason: failure.reason)
    }

    @usableFromInline
    func columnOutOfRange(_ column: Int, swiftType: Any.Type) -> PostgresDecodingError {
        PostgresDecodingError(
            column: "#\(column)", index: column, swiftType: "\(swiftType)", postgresType: .unknown,
            reason: "the result has \(columns.count) columns")
    }

    func isNull(row: Int, column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }
}

/// One row of a ``PostgresRows``.
public struct PostgresRow: Sendable {
    public let rows: PostgresRows
    public let index: Int

    @usableFromInline
    init(rows: PostgresRows, index: Int) {
        self.rows = rows
        self.index = index
    }

    /// The value of the column at `column` (0-based).
    @inlinable
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0, column < rows.columnTypes.count else { throw rows.columnOutOfRange(column, swiftType: T.self) }
        return try rows.decodeCell(T.self, row: index, column: column)
    }

    /// The value of the column named `column`.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, column: String) throws -> T {
        guard let i = rows.columnIndex(of: column) else {
            throw PostgresDecodingError(
                column: column, index: -1, swiftType: "\(T.self)", postgresType: .unknown,
                reason: "the result has no such column (it has \(rows.columns.map(\.name).joined(separator: ", ")))")
        }
        return try rows.decodeCell(T.self, row: index, column: i)
    }

    /// The first columns, in order, as a tuple: `let (id, name) = try row.decode(UUID.self, String.self)`.
    @inlinable
    public func decode<each T: PostgresDecodable>(_ types: repeat (each T).Type) throws -> (repeat each T) {
        // The column travels as an inout argument, not a captured variable: no runtime exclusivity check per cell.
        var column = 0
        return (repeat try decode(next: (each T).self, &column))
    }

    @inlinable @inline(__always)
    func decode<U: PostgresDecodable>(next _: U.Type, _ column: inout Int) throws -> U {
        defer { column += 1 }
        return try decode(U.self, at: column)
    }
}

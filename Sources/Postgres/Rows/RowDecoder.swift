import Foundation

extension PostgresRow {
    /// The row as a `Decodable` value.
    ///
    /// A type that is itself ``PostgresDecodable`` (`Int`, `UUID`, ...) reads column 0. Any other type
    /// is decoded by property name: `orgID` or `orgId` finds the column `org_id` as well as `orgID`.
    /// Properties that are not ``PostgresDecodable`` decode from json/jsonb columns.
    ///
    /// ```swift
    /// struct Member: Decodable { let userID: UUID; let role: String; let joinedAt: Date }
    /// let members = try await pool.fetchAll("SELECT user_id, role, joined_at FROM memberships", as: Member.self)
    /// ```
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try decode(as: type, keys: ColumnKeyCache(rows: rows))
    }

    func decode<T: Decodable>(as type: T.Type, keys: ColumnKeyCache) throws -> T {
        if let scalar = T.self as? any PostgresDecodable.Type {
            return try decodeScalar(scalar, at: 0) as! T
        }
        return try T(from: RowDecoder(row: self, keys: keys))
    }

    private func decodeScalar<P: PostgresDecodable>(_: P.Type, at column: Int) throws -> P {
        try decode(P.self, at: column)
    }
}

extension PostgresRows {
    /// Every row as a `Decodable` value (see ``PostgresRow/decode(as:)``).
    public func decode<T: Decodable>(as type: T.Type) throws -> [T] {
        let keys = ColumnKeyCache(rows: self)
        return try map { try $0.decode(as: type, keys: keys) }
    }
}

/// Maps coding keys to column indexes once per result instead of once per row.
final class ColumnKeyCache {
    let rows: PostgresRows
    private var indexes: [String: Int] = [:]
    private var missing: Set<String> = []

    init(rows: PostgresRows) { self.rows = rows }

    func column(for key: String) -> Int? {
        if let i = indexes[key] { return i }
        if missing.contains(key) { return nil }
        let found = rows.columnIndex(of: key) ?? rows.columnIndex(of: snakeCase(key))
        if let found { indexes[key] = found } else { missing.insert(key) }
        return found
    }
}

/// `orgID` and `orgId` -> `org_id`; `createdAt` -> `created_at`; `apiKeyURL` -> `api_key_url`.
func snakeCase(_ name: String) -> String {
    let chars = Array(name)
    var out = ""
    for (i, c) in chars.enumerated() {
        if c.isUppercase {
            let previousIsLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
            let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
            let previousIsUpper = i > 0 && chars[i - 1].isUppercase
            if i > 0 && (previousIsLower || (previousIsUpper && nextIsLower)) { out.append("_") }
            out += c.lowercased()
        } else {
            out.append(c)
        }
    }
    return out
}

private struct RowDecoder: Decoder {
    let row: PostgresRow
    let keys: ColumnKeyCache
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedColumns(row: row, keys: keys))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { OrderedColumns(row: row) }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleColumn(row: row) }
}

/// Decodes one cell: natively when the type is PostgresDecodable, else as JSON from a json/jsonb column.
private func decodeCell<T: Decodable>(_: T.Type, row: PostgresRow, column: Int) throws -> T {
    if let native = T.self as? any PostgresDecodable.Type {
        func open<P: PostgresDecodable>(_: P.Type) throws -> T { try row.decode(P.self, at: column) as! T }
        return try open(native)
    }
    let type = row.rows.columns[column].type
    do {
        if row.rows.isNull(row: row.index, column: column) {
            return try decodeJSON(T.self, from: nil, type: type)
        }
        return try row.decode(RawJSONCell<T>.self, at: column).value
    } catch let failure as PostgresDecodingFailure {
        throw PostgresDecodingError(
            column: row.rows.columns[column].name, index: column, swiftType: "\(T.self)", postgresType: type,
            reason: failure.reason)
    }
}

/// Lets a non-PostgresDecodable Decodable ride through the cell decoder as JSON.
private struct RawJSONCell<T: Decodable>: PostgresDecodable {
    let value: T
    static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> RawJSONCell<T> {
        guard type == .json || type == .jsonb else {
            throw PostgresDecodingFailure("\(T.self) is not a PostgreSQL value type; only json/jsonb columns decode into it")
        }
        return RawJSONCell(value: try decodeJSON(T.self, from: bytes, type: type))
    }
}

private struct KeyedColumns<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: PostgresRow
    let keys: ColumnKeyCache
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { row.rows.columns.compactMap { Key(stringValue: $0.name) } }

    func contains(_ key: Key) -> Bool { keys.column(for: key.stringValue) != nil }

    private func column(_ key: Key) throws -> Int {
        guard let i = keys.column(for: key.stringValue) else {
            throw PostgresDecodingError(
                column: key.stringValue, index: -1, swiftType: "?", postgresType: .unknown,
                reason: "the result has no column \"\(key.stringValue)\" or \"\(snakeCase(key.stringValue))\"")
        }
        return i
    }

    func decodeNil(forKey key: Key) throws -> Bool { row.rows.isNull(row: row.index, column: try column(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeCell(T.self, row: row, column: try column(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "rows are flat; use a json/jsonb column for nested values"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "rows are flat; use an array or json column"))
    }

    func superDecoder() throws -> any Decoder { RowDecoder(row: row, keys: keys) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row, keys: keys) }
}

private struct OrderedColumns: UnkeyedDecodingContainer {
    let row: PostgresRow
    var currentIndex = 0
    init(row: PostgresRow) { self.row = row }
    var codingPath: [any CodingKey] { [] }
    var count: Int? { row.rows.columns.count }
    var isAtEnd: Bool { currentIndex >= row.rows.columns.count }

    mutating func decodeNil() throws -> Bool {
        guard row.rows.isNull(row: row.index, column: currentIndex) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        defer { currentIndex += 1 }
        return try decodeCell(T.self, row: row, column: currentIndex)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "rows are flat"))
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "rows are flat"))
    }
    mutating func superDecoder() throws -> any Decoder { RowDecoder(row: row, keys: ColumnKeyCache(rows: row.rows)) }
}

private struct SingleColumn: SingleValueDecodingContainer {
    let row: PostgresRow
    var codingPath: [any CodingKey] { [] }
    func decodeNil() -> Bool { row.rows.isNull(row: row.index, column: 0) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeCell(T.self, row: row, column: 0) }
}

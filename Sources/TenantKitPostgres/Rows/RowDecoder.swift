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
    @_disfavoredOverload
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        let state = RowDecodingState(rows: rows, as: T.self)
        defer { state.releaseContainer() }
        return try state.decode(T.self, row: index)
    }
}

extension PostgresRows {
    /// Every row as a `Decodable` value (see ``PostgresRow/decode(as:)``).
    @_disfavoredOverload
    public func decode<T: Decodable>(as type: T.Type) throws -> [T] {
        let state = RowDecodingState(rows: self, as: T.self)
        defer { state.releaseContainer() }
        var values: [T] = []
        values.reserveCapacity(count)
        for row in 0..<count { values.append(try state.decode(T.self, row: row)) }
        return values
    }
}

/// What decoding one result's rows can reuse from row to row: the row being decoded, the column and
/// cell decoder found for each coding key, and the keyed container (its box is an allocation).
///
/// Synthesized `init(from:)` asks for the same keys in the same order on every row, so each request
/// is first checked against the key asked at the same position on the previous row (a String
/// comparison, usually of identical literals) before falling back to a lookup by name.
final class RowDecodingState {
    let rows: PostgresRows
    /// The row being decoded.
    private(set) var row = 0
    /// Set when the type itself is PostgresDecodable: it reads column 0 (resolved once per result).
    private let scalar: (any PostgresDecodable.Type)?
    private var slots: [Slot] = []
    private var cursor = 0
    private var columnsByKey: [String: Int] = [:]
    private var missing: Set<String> = []
    /// The last keyed container handed out, reused while the same `Key` type asks again. It refers
    /// back to this state: ``releaseContainer()`` breaks the cycle once decoding is done.
    private var container: Any?
    private let cachesContainer: Bool

    struct Slot {
        let key: String
        let column: Int?
        /// The Swift type last decoded at this position, and its native decoder (nil: decode as JSON).
        var swiftType: ObjectIdentifier?
        var native: (any PostgresDecodable.Type)?
    }

    init<T>(rows: PostgresRows, as _: T.Type, row: Int = 0, cachesContainer: Bool = true) {
        self.rows = rows
        self.row = row
        self.cachesContainer = cachesContainer
        self.scalar = T.self as? any PostgresDecodable.Type
    }

    func decode<T: Decodable>(_: T.Type, row: Int) throws -> T {
        self.row = row
        cursor = 0
        if let scalar {
            func open<P: PostgresDecodable>(_: P.Type) throws -> T { try PostgresRow(rows: rows, index: row).decode(P.self, at: 0) as! T }
            return try open(scalar)
        }
        return try T(from: RowDecoder(state: self))
    }

    /// The cached container for `Key`, or a new one (kept for the next row).
    func keyedContainer<Key: CodingKey>(_: Key.Type) -> KeyedDecodingContainer<Key> {
        if let cached = container as? KeyedDecodingContainer<Key> { return cached }
        let made = KeyedDecodingContainer(KeyedColumns<Key>(state: self))
        if cachesContainer { container = made }
        return made
    }

    func releaseContainer() { container = nil }

    /// The slot for `key`: the one at the current position when its key matches, else found by name.
    func slot(for key: String) -> Int {
        if cursor < slots.count, slots[cursor].key == key {
            cursor += 1
            return cursor - 1
        }
        // A repeated ask for the same key (contains, then decodeNil, then decode).
        if cursor > 0, slots[cursor - 1].key == key { return cursor - 1 }
        let slot = Slot(key: key, column: column(for: key))
        if cursor < slots.count { slots[cursor] = slot } else { slots.append(slot) }
        cursor += 1
        return cursor - 1
    }

    func column(at slot: Int) -> Int? { slots[slot].column }

    private func column(for key: String) -> Int? {
        if let i = columnsByKey[key] { return i }
        if missing.contains(key) { return nil }
        let found = rows.columnIndex(of: key) ?? rows.columnIndex(of: snakeCase(key))
        if let found { columnsByKey[key] = found } else { missing.insert(key) }
        return found
    }

    /// Decodes the cell of `slot`'s column, resolving whether `T` is native once per position.
    func decodeCell<T: Decodable>(_: T.Type, slot: Int, column: Int) throws -> T {
        let type = ObjectIdentifier(T.self)
        if slots[slot].swiftType != type {
            slots[slot].swiftType = type
            slots[slot].native = T.self as? any PostgresDecodable.Type
        }
        if let native = slots[slot].native {
            func open<P: PostgresDecodable>(_: P.Type) throws -> T { try rows.decodeCell(P.self, row: row, column: column) as! T }
            return try open(native)
        }
        return try decodeJSONCell(T.self, row: PostgresRow(rows: rows, index: row), column: column)
    }
}

/// `orgID` and `orgId` -> `org_id`; `createdAt` -> `created_at`; `apiKeyURL` -> `api_key_url`.
func snakeCase(_ name: String) -> String {
    // Coding keys are nearly always ASCII: the same rule on bytes costs a fraction of the Character walk.
    if name.utf8.allSatisfy({ $0 < 0x80 }) {
        let bytes = Array(name.utf8)
        func isUpper(_ i: Int) -> Bool { bytes[i] >= 0x41 && bytes[i] <= 0x5A }
        func isLower(_ i: Int) -> Bool { bytes[i] >= 0x61 && bytes[i] <= 0x7A }
        func isDigit(_ i: Int) -> Bool { bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4)
        for i in bytes.indices {
            guard isUpper(i) else { out.append(bytes[i]); continue }
            let previousIsLower = i > 0 && (isLower(i - 1) || isDigit(i - 1))
            let nextIsLower = i + 1 < bytes.count && isLower(i + 1)
            let previousIsUpper = i > 0 && isUpper(i - 1)
            if i > 0 && (previousIsLower || (previousIsUpper && nextIsLower)) { out.append(UInt8(ascii: "_")) }
            out.append(bytes[i] + 0x20)
        }
        return String(decoding: out, as: UTF8.self)
    }
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
    let state: RowDecodingState
    var row: PostgresRow { PostgresRow(rows: state.rows, index: state.row) }
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        state.keyedContainer(Key.self)
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
    return try decodeJSONCell(T.self, row: row, column: column)
}

/// Decodes a non-PostgresDecodable value from a json/jsonb cell.
private func decodeJSONCell<T: Decodable>(_: T.Type, row: PostgresRow, column: Int) throws -> T {
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
    let state: RowDecodingState
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { state.rows.columns.compactMap { Key(stringValue: $0.name) } }

    func contains(_ key: Key) -> Bool { state.column(at: state.slot(for: key.stringValue)) != nil }

    private func slotAndColumn(_ key: Key) throws -> (slot: Int, column: Int) {
        let slot = state.slot(for: key.stringValue)
        guard let i = state.column(at: slot) else {
            throw PostgresDecodingError(
                column: key.stringValue, index: -1, swiftType: "?", postgresType: .unknown,
                reason: "the result has no column \"\(key.stringValue)\" or \"\(snakeCase(key.stringValue))\"")
        }
        return (slot, i)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        state.rows.isNull(row: state.row, column: try slotAndColumn(key).column)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (slot, column) = try slotAndColumn(key)
        return try state.decodeCell(T.self, slot: slot, column: column)
    }

    /// One lookup instead of the default's three (contains, decodeNil, decode); same results.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        let slot = state.slot(for: key.stringValue)
        guard let column = state.column(at: slot), !state.rows.isNull(row: state.row, column: column) else { return nil }
        return try state.decodeCell(T.self, slot: slot, column: column)
    }

    // The standard library's own value types skip the generic path's type resolution and cast.
    private func native<T: PostgresDecodable>(_: T.Type, _ key: Key) throws -> T {
        try state.rows.decodeCell(T.self, row: state.row, column: try slotAndColumn(key).column)
    }

    private func nativeIfPresent<T: PostgresDecodable>(_: T.Type, _ key: Key) throws -> T? {
        guard let column = state.column(at: state.slot(for: key.stringValue)), !state.rows.isNull(row: state.row, column: column) else {
            return nil
        }
        return try state.rows.decodeCell(T.self, row: state.row, column: column)
    }

    func decode(_: Bool.Type, forKey key: Key) throws -> Bool { try native(Bool.self, key) }
    func decode(_: String.Type, forKey key: Key) throws -> String { try native(String.self, key) }
    func decode(_: Double.Type, forKey key: Key) throws -> Double { try native(Double.self, key) }
    func decode(_: Float.Type, forKey key: Key) throws -> Float { try native(Float.self, key) }
    func decode(_: Int.Type, forKey key: Key) throws -> Int { try native(Int.self, key) }
    func decode(_: Int16.Type, forKey key: Key) throws -> Int16 { try native(Int16.self, key) }
    func decode(_: Int32.Type, forKey key: Key) throws -> Int32 { try native(Int32.self, key) }
    func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try native(Int64.self, key) }
    func decodeIfPresent(_: Bool.Type, forKey key: Key) throws -> Bool? { try nativeIfPresent(Bool.self, key) }
    func decodeIfPresent(_: String.Type, forKey key: Key) throws -> String? { try nativeIfPresent(String.self, key) }
    func decodeIfPresent(_: Double.Type, forKey key: Key) throws -> Double? { try nativeIfPresent(Double.self, key) }
    func decodeIfPresent(_: Int.Type, forKey key: Key) throws -> Int? { try nativeIfPresent(Int.self, key) }
    func decodeIfPresent(_: Int16.Type, forKey key: Key) throws -> Int16? { try nativeIfPresent(Int16.self, key) }
    func decodeIfPresent(_: Int32.Type, forKey key: Key) throws -> Int32? { try nativeIfPresent(Int32.self, key) }
    func decodeIfPresent(_: Int64.Type, forKey key: Key) throws -> Int64? { try nativeIfPresent(Int64.self, key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "rows are flat; use a json/jsonb column for nested values"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "rows are flat; use an array or json column"))
    }

    func superDecoder() throws -> any Decoder { RowDecoder(state: state) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(state: state) }
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
    mutating func superDecoder() throws -> any Decoder { RowDecoder(state: RowDecodingState(rows: row.rows, as: Void.self, row: row.index, cachesContainer: false)) }
}

private struct SingleColumn: SingleValueDecodingContainer {
    let row: PostgresRow
    var codingPath: [any CodingKey] { [] }
    func decodeNil() -> Bool { row.rows.isNull(row: row.index, column: 0) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeCell(T.self, row: row, column: 0) }
}

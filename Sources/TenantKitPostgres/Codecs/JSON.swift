import Foundation

/// A `Codable` value stored in a `jsonb` column.
///
/// ```swift
/// let meta = JSONB(ItemMetadata(tags: ["a"]))
/// try await conn.execute("UPDATE items SET metadata = \(meta) WHERE id = \(id)")
/// let back = try row.decode(JSONB<ItemMetadata>.self, column: "metadata").value
/// ```
public struct JSONB<Value: Codable & Sendable>: PostgresCodable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public static var postgresType: PostgresType { .jsonb }

    public func encode(into buffer: inout [UInt8]) throws {
        buffer.append(1)  // jsonb binary format version
        try encodeJSON(value, into: &buffer)
    }

    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> JSONB<Value> {
        JSONB(try decodeJSON(Value.self, from: bytes, type: type))
    }
}

/// A `Codable` value stored in a `json` column (text kept as sent; prefer ``JSONB``).
public struct JSON<Value: Codable & Sendable>: PostgresCodable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public static var postgresType: PostgresType { .json }

    public func encode(into buffer: inout [UInt8]) throws { try encodeJSON(value, into: &buffer) }

    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> JSON<Value> {
        JSON(try decodeJSON(Value.self, from: bytes, type: type))
    }
}

extension JSONB: Equatable where Value: Equatable {}
extension JSON: Equatable where Value: Equatable {}

private func encodeJSON<V: Encodable>(_ value: V, into buffer: inout [UInt8]) throws {
    do {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        buffer.append(contentsOf: try encoder.encode(value))
    } catch {
        throw PostgresEncodingError(swiftType: "\(V.self)", reason: "JSON encoding failed: \(error)")
    }
}

/// Decodes JSON from a json, jsonb or text column.
func decodeJSON<V: Decodable>(_: V.Type, from bytes: PostgresBytes?, type: PostgresType) throws -> V {
    guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
    let body: UnsafeRawBufferPointer
    switch type {
    case .jsonb:
        guard bytes.count >= 1, bytes.buffer[0] == 1 else { throw PostgresDecodingFailure("unknown jsonb format version") }
        body = UnsafeRawBufferPointer(rebasing: bytes.buffer[1...])
    case _ where type == .json || type.isTextual:
        body = bytes.buffer
    default:
        throw PostgresDecodingFailure.unsupported(type)
    }
    do {
        return try JSONDecoder().decode(V.self, from: Data(body))
    } catch {
        throw PostgresDecodingFailure("JSON does not decode as \(V.self): \(error)")
    }
}

import Foundation

/// A type that can be an element of a one-dimensional PostgreSQL array (`[T]`, `[T?]`).
public protocol PostgresArrayElement: PostgresCodable {
    /// The array type whose elements are this type (`int8[]` for `Int64`).
    static var postgresArrayType: PostgresType { get }
}

extension Bool: PostgresArrayElement { public static var postgresArrayType: PostgresType { .boolArray } }
extension Int16: PostgresArrayElement { public static var postgresArrayType: PostgresType { .int2Array } }
extension Int32: PostgresArrayElement { public static var postgresArrayType: PostgresType { .int4Array } }
extension Int64: PostgresArrayElement { public static var postgresArrayType: PostgresType { .int8Array } }
extension Int: PostgresArrayElement { public static var postgresArrayType: PostgresType { .int8Array } }
extension Double: PostgresArrayElement { public static var postgresArrayType: PostgresType { .float8Array } }
extension Float: PostgresArrayElement { public static var postgresArrayType: PostgresType { .float4Array } }
extension String: PostgresArrayElement { public static var postgresArrayType: PostgresType { .textArray } }
extension UUID: PostgresArrayElement { public static var postgresArrayType: PostgresType { .uuidArray } }
extension Date: PostgresArrayElement { public static var postgresArrayType: PostgresType { .timestamptzArray } }
extension Data: PostgresArrayElement { public static var postgresArrayType: PostgresType { .byteaArray } }
extension Decimal: PostgresArrayElement { public static var postgresArrayType: PostgresType { .numericArray } }
extension JSONB: PostgresArrayElement { public static var postgresArrayType: PostgresType { .jsonbArray } }
extension JSON: PostgresArrayElement { public static var postgresArrayType: PostgresType { .jsonArray } }
extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayType: PostgresType { Wrapped.postgresArrayType }
}

// Binary array form: ndim, has-null flag, element OID, then (size, lower bound) per dimension,
// then each element as a length (-1 for NULL) and its bytes.
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresType: PostgresType { Element.postgresArrayType }

    public func encode(into buffer: inout [UInt8]) throws {
        buffer.appendBigEndian(Int32(isEmpty ? 0 : 1))
        buffer.appendBigEndian(Int32(contains(where: \.isPostgresNull) ? 1 : 0))
        buffer.appendBigEndian(Element.postgresType.oid)
        guard !isEmpty else { return }
        buffer.appendBigEndian(Int32(count))
        buffer.appendBigEndian(Int32(1))
        for element in self {
            if element.isPostgresNull { buffer.appendBigEndian(Int32(-1)); continue }
            let lengthAt = buffer.count
            buffer.appendBigEndian(Int32(0))
            try element.encode(into: &buffer)
            let length = Int32(buffer.count - lengthAt - 4).bigEndian
            Swift.withUnsafeBytes(of: length) { bytes in
                for i in 0..<4 { buffer[lengthAt + i] = bytes[i] }
            }
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> [Element] {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        guard bytes.count >= 12 else { throw PostgresDecodingFailure("array header is truncated") }
        let dimensions = bytes.integer(at: 0, as: Int32.self)
        let elementType = PostgresType(oid: bytes.integer(at: 8, as: UInt32.self))
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PostgresDecodingFailure("\(dimensions)-dimensional arrays are not supported; only one dimension is")
        }
        guard bytes.count >= 20 else { throw PostgresDecodingFailure("array header is truncated") }
        let count = Int(bytes.integer(at: 12, as: Int32.self))
        var elements: [Element] = []
        elements.reserveCapacity(count)
        var offset = 20
        for index in 0..<count {
            guard offset + 4 <= bytes.count else { throw PostgresDecodingFailure("array element \(index) is truncated") }
            let length = Int(bytes.integer(at: offset, as: Int32.self))
            offset += 4
            do {
                if length < 0 {
                    elements.append(try Element.decode(from: nil, type: elementType))
                } else {
                    guard offset + length <= bytes.count else { throw PostgresDecodingFailure("truncated") }
                    let slice = UnsafeRawBufferPointer(rebasing: bytes.buffer[offset..<offset + length])
                    elements.append(try Element.decode(from: PostgresBytes(slice), type: elementType))
                    offset += length
                }
            } catch let failure as PostgresDecodingFailure {
                throw PostgresDecodingFailure("array element \(index): \(failure.reason)")
            }
        }
        return elements
    }
}

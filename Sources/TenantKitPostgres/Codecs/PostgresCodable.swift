import Foundation

/// A Swift value that can be sent to PostgreSQL as a bind parameter, in binary format.
///
/// ```swift
/// let rows = try await pool.query("SELECT name FROM users WHERE id = \(userID)")
/// ```
public protocol PostgresEncodable: Sendable {
    /// The PostgreSQL type this value is sent as.
    static var postgresType: PostgresType { get }
    /// Appends the value's binary wire form (without the length prefix).
    func encode(into buffer: inout [UInt8]) throws
    /// True when the value is SQL NULL (only `Optional.none` is).
    var isPostgresNull: Bool { get }
}

extension PostgresEncodable {
    public var isPostgresNull: Bool { false }
}

/// A Swift value that can be read from a binary-format result column.
public protocol PostgresDecodable {
    /// Decodes a value; `bytes` is `nil` for SQL NULL.
    ///
    /// Throw ``PostgresDecodingFailure`` to reject the input; the row layer adds the column, the
    /// Swift type and the PostgreSQL type to the error.
    static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Self
}

/// Both directions.
public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

/// Why one value could not be decoded; ``PostgresDecodingError`` adds where.
public struct PostgresDecodingFailure: Error, Sendable, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }

    static let unexpectedNull = PostgresDecodingFailure("the value is NULL; decode an Optional to accept NULL")
    static func unsupported(_ type: PostgresType) -> PostgresDecodingFailure {
        PostgresDecodingFailure("PostgreSQL type \(type) is not supported for this Swift type")
    }
}

/// A value that cannot be encoded (for example a `Decimal` NaN inside an array, or JSON that fails to encode).
public struct PostgresEncodingError: Error, Sendable, CustomStringConvertible {
    public let swiftType: String
    public let reason: String
    public var description: String { "cannot encode a \(swiftType) as a bind parameter: \(reason)" }
}

/// A read-only view of one value's bytes inside a result; valid only during a `decode` call.
public struct PostgresBytes {
    public let buffer: UnsafeRawBufferPointer

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    public var count: Int { buffer.count }

    /// Reads a big-endian integer at `offset`; callers check bounds first.
    @inline(__always)
    public func integer<T: FixedWidthInteger>(at offset: Int, as: T.Type = T.self) -> T {
        T(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inlinable
    func requireCount(_ n: Int, for type: PostgresType) throws {
        guard buffer.count == n else { throw wrongCount(n, for: type) }
    }

    @usableFromInline
    func wrongCount(_ n: Int, for type: PostgresType) -> PostgresDecodingFailure {
        PostgresDecodingFailure("expected \(n) bytes for \(type), got \(buffer.count)")
    }

    var string: String { String(decoding: buffer, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

// MARK: Optional is NULL

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresType { Wrapped.postgresType }
    public func encode(into buffer: inout [UInt8]) throws { try self?.encode(into: &buffer) }
    public var isPostgresNull: Bool { self == nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Self {
        guard let bytes else { return nil }
        return try Wrapped.decode(from: bytes, type: type)
    }
}

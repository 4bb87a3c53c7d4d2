import Foundation

extension Bool: PostgresCodable {
    public static var postgresType: PostgresType { .bool }
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Bool {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        guard type == .bool else { throw PostgresDecodingFailure.unsupported(type) }
        try bytes.requireCount(1, for: type)
        return bytes.buffer[0] != 0
    }
}

/// Integers decode from any PostgreSQL integer width; a value that does not fit is an error, never truncated.
private func decodeInteger<T: FixedWidthInteger>(_ bytes: PostgresBytes?, _ type: PostgresType) throws -> T {
    guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
    let wide: Int64
    switch type {
    case .int2: try bytes.requireCount(2, for: type); wide = Int64(bytes.integer(at: 0, as: Int16.self))
    case .int4: try bytes.requireCount(4, for: type); wide = Int64(bytes.integer(at: 0, as: Int32.self))
    case .int8: try bytes.requireCount(8, for: type); wide = bytes.integer(at: 0, as: Int64.self)
    case .oidType: try bytes.requireCount(4, for: type); wide = Int64(bytes.integer(at: 0, as: UInt32.self))
    default: throw PostgresDecodingFailure.unsupported(type)
    }
    guard let value = T(exactly: wide) else {
        throw PostgresDecodingFailure("the value does not fit in \(T.self)")  // never the value: it is row data
    }
    return value
}

extension Int16: PostgresCodable {
    public static var postgresType: PostgresType { .int2 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Int16 {
        try decodeInteger(bytes, type)
    }
}

extension Int32: PostgresCodable {
    public static var postgresType: PostgresType { .int4 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Int32 {
        try decodeInteger(bytes, type)
    }
}

extension Int64: PostgresCodable {
    public static var postgresType: PostgresType { .int8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Int64 {
        try decodeInteger(bytes, type)
    }
}

extension Int: PostgresCodable {
    public static var postgresType: PostgresType { .int8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Int {
        try decodeInteger(bytes, type)
    }
}

extension Double: PostgresCodable {
    public static var postgresType: PostgresType { .float8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Double {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        switch type {
        case .float8:
            try bytes.requireCount(8, for: type)
            return Double(bitPattern: bytes.integer(at: 0, as: UInt64.self))
        case .float4:
            try bytes.requireCount(4, for: type)
            return Double(Float(bitPattern: bytes.integer(at: 0, as: UInt32.self)))
        default:
            throw PostgresDecodingFailure.unsupported(type)
        }
    }
}

extension Float: PostgresCodable {
    public static var postgresType: PostgresType { .float4 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Float {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        guard type == .float4 else { throw PostgresDecodingFailure.unsupported(type) }
        try bytes.requireCount(4, for: type)
        return Float(bitPattern: bytes.integer(at: 0, as: UInt32.self))
    }
}

extension String: PostgresCodable {
    public static var postgresType: PostgresType { .text }
    public func encode(into buffer: inout [UInt8]) throws {
        // PostgreSQL text cannot hold NUL; say so here instead of a protocol error from the server.
        guard !utf8.contains(0) else {
            throw PostgresEncodingError(swiftType: "String", reason: "PostgreSQL text cannot contain NUL (0x00) characters")
        }
        buffer.append(contentsOf: utf8)
    }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> String {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        switch type {
        case _ where type.isTextual, .json:
            return bytes.string
        case .jsonb:
            guard bytes.count >= 1, bytes.buffer[0] == 1 else { throw PostgresDecodingFailure("unknown jsonb format version") }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes.buffer[1...]), as: UTF8.self)
        default:
            throw PostgresDecodingFailure.unsupported(type)
        }
    }
}

extension UUID: PostgresCodable {
    public static var postgresType: PostgresType { .uuid }
    public func encode(into buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> UUID {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        switch type {
        case .uuid:
            try bytes.requireCount(16, for: type)
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: bytes.buffer) }
            return UUID(uuid: raw)
        case _ where type.isTextual:
            guard let uuid = UUID(uuidString: bytes.string) else { throw PostgresDecodingFailure("text is not a UUID") }
            return uuid
        default:
            throw PostgresDecodingFailure.unsupported(type)
        }
    }
}

extension Data: PostgresCodable {
    public static var postgresType: PostgresType { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Data {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        guard type == .bytea else { throw PostgresDecodingFailure.unsupported(type) }
        return Data(bytes.buffer)
    }
}

/// PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC.
private let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

extension Date: PostgresCodable {
    public static var postgresType: PostgresType { .timestamptz }
    public func encode(into buffer: inout [UInt8]) throws {
        let micros = (timeIntervalSince(postgresEpoch) * 1_000_000).rounded()
        guard let value = Int64(exactly: micros) else {
            throw PostgresEncodingError(swiftType: "Date", reason: "outside PostgreSQL's timestamp range")
        }
        buffer.appendBigEndian(value)
    }
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Date {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        switch type {
        case .timestamptz, .timestamp:
            try bytes.requireCount(8, for: type)
            let micros = bytes.integer(at: 0, as: Int64.self)
            if micros == .max { return .distantFuture }  // 'infinity'
            if micros == .min { return .distantPast }  // '-infinity'
            // Split to keep microsecond precision that one Double multiplication would blur.
            let (seconds, remainder) = micros.quotientAndRemainder(dividingBy: 1_000_000)
            return Date(timeInterval: Double(seconds) + Double(remainder) / 1_000_000, since: postgresEpoch)
        case .date:
            try bytes.requireCount(4, for: type)
            return Date(timeInterval: Double(bytes.integer(at: 0, as: Int32.self)) * 86_400, since: postgresEpoch)
        default:
            throw PostgresDecodingFailure.unsupported(type)
        }
    }
}

// MARK: String-backed enums

/// A `String` enum is stored as text once it opts in: `extension Status: PostgresCodable {}`.
extension PostgresEncodable where Self: RawRepresentable, RawValue == String {
    public static var postgresType: PostgresType { .text }
    public func encode(into buffer: inout [UInt8]) throws { try rawValue.encode(into: &buffer) }
}

extension PostgresDecodable where Self: RawRepresentable, RawValue == String {
    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Self {
        guard let value = Self(rawValue: try String.decode(from: bytes, type: type)) else {
            throw PostgresDecodingFailure("the text is not one of \(Self.self)'s cases")
        }
        return value
    }
}

import TenantKitPostgres

/// A cell of any type, as the bytes the server sent (binary format), or nil for NULL.
struct RawCell: PostgresDecodable {
    let bytes: [UInt8]?

    static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> RawCell {
        RawCell(bytes: bytes.map { Array($0.buffer) })
    }
}

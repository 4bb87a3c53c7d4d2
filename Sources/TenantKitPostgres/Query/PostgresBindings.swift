/// The bind parameters of a statement, already encoded in binary form.
///
/// Values are stored, never printed: `description` says how many there are and nothing more,
/// so logs cannot leak another tenant's data.
public struct PostgresBindings: Sendable, CustomStringConvertible {
    /// Each parameter's PostgreSQL type, in `$1...$n` order.
    public private(set) var types: [PostgresType] = []
    /// Each parameter's byte length in `bytes`, or -1 for NULL.
    private(set) var lengths: [Int32] = []
    /// All values, back to back.
    private(set) var bytes: [UInt8] = []

    public init() {}

    public var count: Int { types.count }

    /// Encodes and appends a value; its placeholder is `$\(count)` afterwards.
    public mutating func append<T: PostgresEncodable>(_ value: T) throws {
        if value.isPostgresNull {
            types.append(T.postgresType)
            lengths.append(-1)
            return
        }
        let start = bytes.count
        do {
            try value.encode(into: &bytes)
        } catch {
            bytes.removeSubrange(start...)
            throw error
        }
        types.append(T.postgresType)
        lengths.append(Int32(bytes.count - start))
    }

    /// Appends all of `other`'s parameters after this one's.
    public mutating func append(contentsOf other: PostgresBindings) {
        types += other.types
        lengths += other.lengths
        bytes += other.bytes
    }

    public var description: String { "<\(count) bind parameter\(count == 1 ? "" : "s") redacted>" }

    /// Calls `body` with libpq-ready arrays: value pointers (nil for NULL), lengths and formats (all binary).
    func withLibpqArrays<R>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws -> R
    ) rethrows -> R {
        if types.isEmpty { return try body(nil, nil, nil) }
        // Scratch arrays on the stack (for a usual number of binds): this runs once per statement sent.
        return try withUnsafeTemporaryAllocation(of: Int32.self, capacity: types.count) { formats in
            formats.initialize(repeating: 1)
            return try withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: types.count) { pointers in
                try bytes.withUnsafeBufferPointer { storage in
                    // An empty (non-NULL) value still needs a non-nil pointer; any valid address will do.
                    var emptyByte: CChar = 0
                    return try withUnsafePointer(to: &emptyByte) { empty in
                        var offset = 0
                        for (i, length) in lengths.enumerated() {
                            if length < 0 {
                                pointers[i] = nil
                                continue
                            }
                            if let base = storage.baseAddress {
                                pointers[i] = UnsafeRawPointer(base + offset).assumingMemoryBound(to: CChar.self)
                            } else {
                                pointers[i] = empty
                            }
                            offset += Int(length)
                        }
                        return try lengths.withUnsafeBufferPointer { lengthPointer in
                            try body(UnsafePointer(pointers.baseAddress), lengthPointer.baseAddress, UnsafePointer(formats.baseAddress))
                        }
                    }
                }
            }
        }
    }
}

import Foundation

/// Bytes as lowercase hex digits (`SHA256.hex` hashes first; this only encodes).
func hexString(_ bytes: some Collection<UInt8>) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
        var writer = HexWriter(buffer)
        writer.hex(bytes)
        return writer.count
    }
}

/// Writes lowercase hex digits (and ASCII) into a buffer front to back, without allocating: a
/// claim is built this way for every unit of work.
struct HexWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func ascii(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
    }

    mutating func ascii(_ text: String) {
        for byte in text.utf8 { ascii(byte) }
    }

    mutating func hex(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            ascii(Self.digit(byte >> 4))
            ascii(Self.digit(byte & 0x0f))
        }
    }

    mutating func hex(_ id: UUID) {
        withUnsafeBytes(of: id.uuid) { hex($0) }
    }

    /// `value` as exactly `digits` hex digits, zero-padded (higher digits dropped).
    mutating func hex(_ value: UInt64, digits: Int) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            ascii(Self.digit(UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0x0f))
        }
    }

    mutating func zeros(_ digits: Int) {
        for _ in 0..<digits { ascii(UInt8(ascii: "0")) }
    }

    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

/// SHA-256 (FIPS 180-4), small and dependency-free: migration checksums and API key hashes must not
/// pull in a crypto package, and Foundation has no digest API on Linux. `package`, not public: it
/// serves TenantKit's own modules and never clashes with swift-crypto's `SHA256` in an application.
///
/// ```swift
/// SHA256.hex(Array("abc".utf8))  // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// ```
package enum SHA256 {
    /// The 32-byte digest of `bytes`.
    package static func digest(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let message = Array(bytes)
        return [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
            message.withUnsafeBytes { State().finish(afterBytes: 0, message: $0, into: UnsafeMutableRawBufferPointer(digest)) }
            count = 32
        }
    }

    /// The chaining state between 64-byte blocks. HMAC with a fixed key keeps the states after its
    /// two pad blocks and starts every message from them; nothing here allocates.
    package struct State: Sendable {
        private var h0: UInt32 = 0x6a09_e667, h1: UInt32 = 0xbb67_ae85, h2: UInt32 = 0x3c6e_f372, h3: UInt32 = 0xa54f_f53a
        private var h4: UInt32 = 0x510e_527f, h5: UInt32 = 0x9b05_688c, h6: UInt32 = 0x1f83_d9ab, h7: UInt32 = 0x5be0_cd19

        /// The initial state.
        package init() {}

        /// Hashes one 64-byte block.
        package mutating func compress(_ block: UnsafeRawBufferPointer) {
            precondition(block.count >= 64, "SHA-256 compresses 64-byte blocks")
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for i in 0..<16 {
                    w[i] = UInt32(block[i * 4]) << 24 | UInt32(block[i * 4 + 1]) << 16 | UInt32(block[i * 4 + 2]) << 8 | UInt32(block[i * 4 + 3])
                }
                for i in 16..<64 {
                    let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                    let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                    w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = (h0, h1, h2, h3, h4, h5, h6, h7)
                roundConstants.withUnsafeBufferPointer { k in
                    for i in 0..<64 {
                        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let choose = (e & f) ^ (~e & g)
                        let t1 = h &+ s1 &+ choose &+ k[i] &+ w[i]
                        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ majority)
                    }
                }
                h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d; h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
            }
        }

        /// The digest of a message whose first `prefixLength` bytes (whole blocks) this state has
        /// hashed and whose rest is `message`, written to the first 32 bytes of `digest`.
        package func finish(afterBytes prefixLength: Int, message: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) {
            precondition(prefixLength % 64 == 0 && digest.count >= 32, "SHA-256 finishes after whole blocks, into 32 bytes")
            var state = self
            var offset = 0
            while message.count - offset >= 64 {
                state.compress(UnsafeRawBufferPointer(rebasing: message[offset..<offset + 64]))
                offset += 64
            }
            let rest = message.count - offset
            let bitLength = UInt64(prefixLength + message.count) &* 8
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { tail in
                let length = rest + 9 <= 64 ? 64 : 128
                tail.initialize(repeating: 0)
                for i in 0..<rest { tail[i] = message[offset + i] }
                tail[rest] = 0x80
                for i in 0..<8 { tail[length - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> UInt64(8 * i)) }
                let bytes = UnsafeRawBufferPointer(tail)
                state.compress(UnsafeRawBufferPointer(rebasing: bytes[0..<64]))
                if length == 128 { state.compress(UnsafeRawBufferPointer(rebasing: bytes[64..<128])) }
            }
            func store(_ word: UInt32, at index: Int) {
                for j in 0..<4 { digest[index * 4 + j] = UInt8(truncatingIfNeeded: word >> UInt32(24 - j * 8)) }
            }
            store(state.h0, at: 0); store(state.h1, at: 1); store(state.h2, at: 2); store(state.h3, at: 3)
            store(state.h4, at: 4); store(state.h5, at: 5); store(state.h6, at: 6); store(state.h7, at: 7)
        }
    }

    /// The digest as 64 lowercase hexadecimal characters.
    package static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(64)
        for byte in digest(bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return text
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}

import Foundation
import TenantKitPostgres

/// Random secrets (invitation tokens, API keys) and the constant-time comparison of their hashes.
enum Secret {
    /// `prefix_` followed by 32 random bytes in base64url: 256 bits from the system's CSPRNG.
    static func generate(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + "_" + base64URL(bytes)
    }

    /// True for `prefix_` and 43 base64url characters: what ``generate(prefix:)`` makes.
    static func isWellFormed(_ text: String, prefix: String) -> Bool {
        let bytes = Array(text.utf8), head = Array((prefix + "_").utf8)
        guard bytes.count == head.count + 43, bytes.starts(with: head) else { return false }
        return bytes.dropFirst(head.count).allSatisfy { byte in
            (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 || byte == 95
        }
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ secret: String) -> Data { Data(SHA256.digest(Array(secret.utf8))) }
}

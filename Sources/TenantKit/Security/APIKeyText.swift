import Foundation

/// The text of an API key: `tk_<key id>_<org id>_<secret>` (ids as 32 hex digits each, the secret
/// 32 random bytes in base64url). The ids let a request be scoped to the key's organization
/// without a lookup; the database then checks the whole key's hash with the first statement. The
/// visible prefix, `tk_<key id>`, is unique across organizations.
struct APIKeyText {
    let orgID: UUID
    let keyID: UUID

    /// Parses the ids out of a presented key; nil when it is not of this format.
    init?(_ text: String) {
        let parts = text.split(separator: "_", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "tk", !parts[3].isEmpty,
              let key = UUID(hex32: parts[1]), let org = UUID(hex32: parts[2]) else { return nil }
        self.orgID = org
        self.keyID = key
    }

    /// A new key's full text and its visible prefix.
    static func generate(orgID: UUID, keyID: UUID) -> (text: String, prefix: String) {
        let prefix = "tk_" + SignedTenantContext.hex(keyID)
        return (Secret.generate(prefix: prefix + "_" + SignedTenantContext.hex(orgID)), prefix)
    }
}

extension UUID {
    /// A uuid from 32 hex digits without hyphens (either case); read byte by byte, since this runs
    /// on every request that presents a key.
    init?(hex32 digits: Substring) {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var utf8 = digits.utf8.makeIterator()
            for i in 0..<16 {
                guard let high = utf8.next().flatMap(Self.nibble), let low = utf8.next().flatMap(Self.nibble) else { return false }
                out[i] = high << 4 | low
            }
            return utf8.next() == nil
        }
        guard valid else { return nil }
        self.init(uuid: bytes)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

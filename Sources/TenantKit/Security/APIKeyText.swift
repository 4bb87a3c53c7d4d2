import Foundation

/// The text of an API key: `tk_<org id><key id>_<secret>` (ids as 32 hex digits each, the secret
/// 32 random bytes in base64url). The ids let a request be scoped to the key's organization
/// without a lookup; the database then checks the whole key's hash with the first statement.
struct APIKeyText {
    let orgID: UUID
    let keyID: UUID

    /// Parses the ids out of a presented key; nil when it is not of this format.
    init?(_ text: String) {
        let parts = text.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tk", parts[1].utf8.count == 64, !parts[2].isEmpty,
              let org = UUID(hex32: parts[1].prefix(32)), let key = UUID(hex32: parts[1].suffix(32)) else { return nil }
        self.orgID = org
        self.keyID = key
    }

    /// A new key's full text and its visible prefix (`tk_` and the first 16 hex digits of the key id).
    static func generate(orgID: UUID, keyID: UUID) -> (text: String, prefix: String) {
        let ids = SignedTenantContext.hex(orgID) + SignedTenantContext.hex(keyID)
        return (Secret.generate(prefix: "tk_" + ids), "tk_" + String(SignedTenantContext.hex(keyID).prefix(16)))
    }
}

extension UUID {
    /// A uuid from 32 hex digits without hyphens.
    init?(hex32 digits: Substring) {
        guard digits.utf8.count == 32, digits.allSatisfy(\.isHexDigit) else { return nil }
        let d = Array(digits.lowercased())
        let text = String(d[0..<8]) + "-" + String(d[8..<12]) + "-" + String(d[12..<16]) + "-" + String(d[16..<20]) + "-" + String(d[20..<32])
        self.init(uuidString: text)
    }
}

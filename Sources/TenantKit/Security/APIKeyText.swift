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
    /// A uuid from 32 hex digits without hyphens.
    init?(hex32 digits: Substring) {
        guard digits.utf8.count == 32, digits.allSatisfy(\.isHexDigit) else { return nil }
        let d = Array(digits.lowercased())
        let text = String(d[0..<8]) + "-" + String(d[8..<12]) + "-" + String(d[12..<16]) + "-" + String(d[16..<20]) + "-" + String(d[20..<32])
        self.init(uuidString: text)
    }
}

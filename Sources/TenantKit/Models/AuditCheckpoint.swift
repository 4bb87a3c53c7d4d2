import Foundation

/// A signed statement of an organization's audit chain head, meant to be stored outside the
/// database (another system, object storage with retention, a ticket) and verified against later
/// with ``AuditRepository/verifyChain(against:)``. A rewrite of any entry up to `seq`, or a
/// deleted tail, shows up even when whoever did it controlled the database's owner role.
///
/// `head` is the hash of entry `seq` (32 zero bytes when `seq` is 0); `signature` is the
/// database's HMAC-SHA256 over org, seq and head with its audit key (encoding in
/// Schema/0015_keyed_audit_chain.sql). Codable for storage: `Data` encodes as base64 in JSON.
public struct AuditCheckpoint: Codable, Sendable, Equatable {
    public let orgID: UUID
    public let seq: Int64
    public let head: Data
    public let signature: Data

    public init(orgID: UUID, seq: Int64, head: Data, signature: Data) {
        self.orgID = orgID
        self.seq = seq
        self.head = head
        self.signature = signature
    }
}

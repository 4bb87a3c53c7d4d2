import Foundation

/// One audit log entry. `seq` counts the organization's entries from 1 without gaps.
public struct AuditEntry: Codable, Sendable, Equatable {
    public let seq: Int64
    public let occurredAt: Date
    public let actorUserID: UUID?
    public let actorAPIKeyID: UUID?
    public let action: String
    public let target: String?
    public let details: [String: String]
}

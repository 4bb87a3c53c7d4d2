import Foundation
import TenantKitPostgres

/// A run of a catalog item, paid for by the organization's ECU balance.
public struct Run: Codable, Sendable, Equatable {
    public let id: UUID
    public let catalogItemID: UUID
    public let userID: UUID?
    public let apiKeyID: UUID?
    public let cost: Int64
    public let status: Status
    public let error: String?
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?

    public enum Status: String, Codable, Sendable, PostgresCodable { case queued, running, succeeded, failed }
}

import Foundation

/// An API key as listed: its visible prefix, never the secret.
public struct APIKey: Codable, Sendable, Equatable {
    public let id: UUID
    public let name: String
    public let prefix: String
    public let createdBy: UUID?
    public let createdAt: Date
    public let lastUsedAt: Date?
    public let revokedAt: Date?
}

import Foundation

/// An invitation as admins see it (never the token).
public struct Invitation: Codable, Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let role: Role
    public let invitedBy: UUID?
    public let createdAt: Date
    public let expiresAt: Date
    public let acceptedAt: Date?
    public let revokedAt: Date?
}

import Foundation

/// A member of the active organization.
public struct Member: Codable, Sendable, Equatable {
    public let userID: UUID
    public let email: String
    public let displayName: String?
    public let role: Role
    public let joinedAt: Date
}

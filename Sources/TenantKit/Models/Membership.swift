import Foundation

/// An organization in the user's org switcher.
public struct Membership: Codable, Sendable, Equatable {
    public let orgID: UUID
    public let name: String
    public let role: Role
    public let joinedAt: Date
}

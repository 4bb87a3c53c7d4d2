import Foundation

/// A user of the product (global: one row per person, whatever their organizations).
public struct User: Codable, Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let emailVerified: Bool
    public let displayName: String?
}

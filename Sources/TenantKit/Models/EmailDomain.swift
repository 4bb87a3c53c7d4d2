import Foundation

/// An email domain of the organization, for auto-join.
public struct EmailDomain: Codable, Sendable, Equatable {
    public let domain: String
    public let enabled: Bool
    public let defaultRole: Role
    public let verifiedAt: Date?
}

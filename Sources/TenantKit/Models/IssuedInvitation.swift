import Foundation

/// An invitation just made, with its token: shown once, stored only as a hash.
public struct IssuedInvitation: Codable, Sendable {
    public let invitation: Invitation
    /// Goes into the email link; ``TenantStore/acceptInvitation(token:userID:)`` redeems it.
    public let token: String
}

import Foundation
import TenantKitPostgres

/// A rule of the organization model said no. Each case names the rule; none carries another
/// organization's data.
public enum TenantError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The session has no active organization (the user belongs to none yet).
    case noActiveOrganization
    /// The user is not a member of the organization (or it does not exist: the two look alike).
    case notAMember(orgID: UUID)
    /// The actor's role does not allow the action.
    case forbidden(action: String, required: Role)
    /// The change would leave the organization without an admin.
    case lastAdmin
    /// The organization was switched while this write was in flight: its transaction in flight was
    /// rolled back, not replayed (a write body of several repository calls keeps those that committed).
    case orgSwitched(from: UUID, to: UUID)
    /// A session made from an API key stays in the key's organization.
    case pinnedToAPIKeyOrganization
    /// The ECU balance is too low for the debit; nothing was written.
    case insufficientCredits(balance: Int64, requested: Int64)
    /// An invitation cannot be accepted: see the reason.
    case invitationRejected(InvitationRejection)
    /// The API key is unknown, revoked or malformed (deliberately indistinguishable).
    case invalidAPIKey
    /// The session token is unknown, or its session was closed or expired (indistinguishable).
    case invalidSession
    /// No such row in the active organization.
    case notFound(String)
    /// A value was refused before anything was sent.
    case invalidInput(String)
    /// A unique value (slug, domain, email) is already used in this organization.
    case alreadyExists(String)

    public enum InvitationRejection: String, Sendable {
        case unknownToken = "unknown token"
        case expired
        case alreadyUsed = "already accepted or revoked"
        case wrongEmail = "addressed to another email"
    }

    public var description: String {
        switch self {
        case .noActiveOrganization: "no active organization: create one or accept an invitation first"
        case .notAMember(let org): "not a member of organization \(org)"
        case .forbidden(let action, let role): "\(action) needs the \(role) role"
        case .lastAdmin: "an organization needs at least one admin: promote someone else first"
        case .orgSwitched(let from, let to):
            "the active organization changed from \(from) to \(to) while this write was in flight; its transaction in flight was rolled back (transactions it had already committed stay)"
        case .pinnedToAPIKeyOrganization: "a session made from an API key cannot switch organizations"
        case .insufficientCredits(let balance, let requested):
            "insufficient ECU balance: \(balance) available, \(requested) requested"
        case .invitationRejected(let reason): "invitation rejected: \(reason.rawValue)"
        case .invalidAPIKey: "invalid API key"
        case .invalidSession: "invalid session: sign in again"
        case .notFound(let what): "\(what) not found in the active organization"
        case .invalidInput(let problem): "invalid input: \(problem)"
        case .alreadyExists(let what): "\(what) already exists in this organization"
        }
    }
}

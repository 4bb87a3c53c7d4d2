import Foundation
import TenantKit
import TenantSQL

/// Who carries an injection: a principal of the ``InjectionWorld`` whose legitimate request the
/// attack SQL rides in on.
public enum InjectionAttacker: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// An admin of org A, in org A.
    case adminOfA
    /// A viewer of org A, in org A: may read, may not manage members, keys, invitations or domains.
    case viewerOfA
    /// An API key of org A, in org A (acts with the member role).
    case apiKeyOfA
    /// A user removed from org B, still holding a scope of org B (a stale session).
    case removedFromB
    /// A revoked API key of org B, still holding a scope of org B.
    case revokedKeyOfB

    public var description: String {
        switch self {
        case .adminOfA: "admin of A"
        case .viewerOfA: "viewer of A"
        case .apiKeyOfA: "API key of A"
        case .removedFromB: "removed from B"
        case .revokedKeyOfB: "revoked key of B"
        }
    }
}

/// An attacker resolved against a world: the org its scope names and the actor it acts as.
public struct InjectionPrincipal: Sendable, Hashable {
    /// Which attacker this is.
    public let attacker: InjectionAttacker
    /// The org of the attacker's scope (A, or B for the stale principals).
    public let scopeOrgID: UUID
    /// The actor of its scope.
    public let actor: OrgScope.Actor
    /// The org the attacker legitimately belongs to, if any (nil for the stale principals).
    public let homeOrgID: UUID?
    /// The attacker's role in its home org (API keys act as members).
    public let role: Role?

    /// The attacker's user id, for user principals.
    public var userID: UUID? {
        if case .user(let id) = actor { return id }
        return nil
    }

    /// The attacker's key id, for API-key principals.
    public var apiKeyID: UUID? {
        if case .apiKey(let id, _) = actor { return id }
        return nil
    }
}

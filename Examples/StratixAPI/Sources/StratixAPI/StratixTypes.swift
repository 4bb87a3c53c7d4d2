import Foundation
import Hummingbird
import TenantKit

// The API's request and response bodies. Responses that belong to an organization say which
// (`orgID`): after a switch, a client tells a fresh answer from a stale one by it.

/// `POST /sign-in`.
public struct StratixSignInRequest: Codable, Sendable {
    public var email: String
    public var displayName: String?
    public init(email: String, displayName: String? = nil) {
        self.email = email
        self.displayName = displayName
    }
}

/// The answer to `POST /sign-in`; the session token travels only in the cookie.
public struct StratixSignedIn: ResponseCodable, Sendable {
    public let userID: UUID
    public let email: String
    public let activeOrgID: UUID?
    /// Organizations joined at this sign-in through email-domain auto-join.
    public let autoJoinedOrgIDs: [UUID]
}

/// `POST /orgs`.
public struct StratixNewOrganization: Codable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// One organization in the switcher.
public struct StratixOrganizationEntry: ResponseCodable, Sendable, Equatable {
    public let orgID: UUID
    public let name: String
    public let role: Role
    /// Nil for an API key's own organization (a key is not a member).
    public let joinedAt: Date?

    init(_ membership: Membership) {
        self.init(orgID: membership.orgID, name: membership.name, role: membership.role, joinedAt: membership.joinedAt)
    }

    init(orgID: UUID, name: String, role: Role, joinedAt: Date?) {
        self.orgID = orgID
        self.name = name
        self.role = role
        self.joinedAt = joinedAt
    }
}

/// `GET /orgs`, `POST /session/switch`: what the org switcher shows.
public struct StratixSwitcher: ResponseCodable, Sendable {
    public let activeOrgID: UUID?
    public let organizations: [StratixOrganizationEntry]
}

/// `POST /session/switch`.
public struct StratixSwitchRequest: Codable, Sendable {
    public var orgID: UUID
    public init(orgID: UUID) { self.orgID = orgID }
}

/// One page of a listing of the organization `orgID`; send `next` back as `?cursor=` for the next page.
public struct StratixPage<Item: Codable & Sendable>: ResponseCodable, Sendable {
    public let orgID: UUID
    public let items: [Item]
    public let next: PageCursor?

    init(_ scoped: Scoped<Page<Item>>) {
        orgID = scoped.orgID
        items = scoped.value.items
        next = scoped.value.next
    }
}

/// `POST /catalog`: a private item of the active organization.
public struct StratixNewCatalogItem: Codable, Sendable {
    public var kind: String?
    public var slug: String
    public var name: String
    public var metadata: [String: String]?
    public init(kind: String? = nil, slug: String, name: String, metadata: [String: String]? = nil) {
        self.kind = kind
        self.slug = slug
        self.name = name
        self.metadata = metadata
    }
}

/// A catalog item created.
public struct StratixCatalogItemCreated: ResponseCodable, Sendable {
    public let orgID: UUID
    public let item: CatalogItem
}

/// `POST /runs`. The idempotency key may come here or in the `Idempotency-Key` header; a retried
/// request with the same key starts (and debits) one run.
public struct StratixStartRun: Codable, Sendable {
    public var itemID: UUID
    public var cost: Int64
    public var idempotencyKey: String?
    public init(itemID: UUID, cost: Int64, idempotencyKey: String? = nil) {
        self.itemID = itemID
        self.cost = cost
        self.idempotencyKey = idempotencyKey
    }
}

/// A run started, and the balance after its debit.
public struct StratixRunStarted: ResponseCodable, Sendable {
    public let orgID: UUID
    public let run: Run
    public let balance: Int64
}

/// `GET /credits`: the ECU balance and a page of the ledger.
public struct StratixCredits: ResponseCodable, Sendable {
    public let orgID: UUID
    public let balance: Int64
    public let history: [LedgerEntry]
    public let next: PageCursor?
}

/// `POST /invitations`.
public struct StratixInvite: Codable, Sendable {
    public var email: String
    public var role: Role?
    public init(email: String, role: Role? = nil) {
        self.email = email
        self.role = role
    }
}

/// An invitation made; the token (shown once) goes into the link mailed to the invitee.
public struct StratixInvitationIssued: ResponseCodable, Sendable {
    public let orgID: UUID
    public let invitation: Invitation
    public let token: String
}

/// `POST /invitations/accept`.
public struct StratixAcceptInvitation: Codable, Sendable {
    public var token: String
    public init(token: String) { self.token = token }
}

/// Organizations joined (an accepted invitation, an auto-join) and the session's active one after.
public struct StratixJoined: ResponseCodable, Sendable {
    public let joined: [StratixOrganizationEntry]
    public let activeOrgID: UUID?
}

/// `POST /domains` (register) and `POST /domains/verify`.
public struct StratixDomainRequest: Codable, Sendable {
    public var domain: String
    /// The role auto-joined users get (`POST /domains/verify`); member by default.
    public var defaultRole: Role?
    public init(domain: String, defaultRole: Role? = nil) {
        self.domain = domain
        self.defaultRole = defaultRole
    }
}

/// A domain registered: publish `challenge` as a DNS TXT record of it, then `POST /domains/verify`.
public struct StratixDomainChallenge: ResponseCodable, Sendable {
    public let orgID: UUID
    public let domain: String
    public let challenge: String
}

/// A domain verified and enabled for auto-join.
public struct StratixDomainVerified: ResponseCodable, Sendable {
    public let orgID: UUID
    public let domain: EmailDomain
}

/// `POST /api-keys`.
public struct StratixNewAPIKey: Codable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// An API key made: `secret` is shown this once (the database keeps its hash only).
public struct StratixAPIKeyIssued: ResponseCodable, Sendable {
    public let orgID: UUID
    public let key: APIKey
    public let secret: String
}

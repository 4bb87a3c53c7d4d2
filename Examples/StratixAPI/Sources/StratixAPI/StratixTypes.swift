import Foundation
import Hummingbird
import TenantKit

// The API's request and response bodies. Responses that belong to an organization say which
// (`orgID`): after a switch, a client tells a fresh answer from a stale one by it.

/// `POST /sign-in`.
public struct StratixSignInRequest: Codable, Sendable {
    /// The email to sign in as (or to invite).
    public var email: String
    /// Shown to other members; used when the user is new.
    public var displayName: String?
    /// A request body with these fields.
    public init(email: String, displayName: String? = nil) {
        self.email = email
        self.displayName = displayName
    }
}

/// The answer to `POST /sign-in`; the session token travels only in the cookie.
public struct StratixSignedIn: ResponseCodable, Sendable {
    /// The signed-in user.
    public let userID: UUID
    /// The user's email, lowercased.
    public let email: String
    /// The session's active organization, nil while the user belongs to none.
    public let activeOrgID: UUID?
    /// Organizations joined at this sign-in through email-domain auto-join.
    public let autoJoinedOrgIDs: [UUID]
}

/// `POST /orgs`.
public struct StratixNewOrganization: Codable, Sendable {
    /// A display name, 1 to 200 characters.
    public var name: String
    /// A request body with these fields.
    public init(name: String) { self.name = name }
}

/// One organization in the switcher.
public struct StratixOrganizationEntry: ResponseCodable, Sendable, Equatable {
    /// The organization.
    public let orgID: UUID
    /// The organization's name.
    public let name: String
    /// The user's role in it (an API key acts as a member).
    public let role: Role
    /// When the user joined; nil for an API key's own organization (a key is not a member).
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
    /// The session's active organization, nil while the user belongs to none.
    public let activeOrgID: UUID?
    /// Every organization the principal may switch to.
    public let organizations: [StratixOrganizationEntry]
}

/// `POST /session/switch`.
public struct StratixSwitchRequest: Codable, Sendable {
    /// The organization to make active; the user must be a member.
    public var orgID: UUID
    /// A request body with these fields.
    public init(orgID: UUID) { self.orgID = orgID }
}

/// One page of a listing of the organization `orgID`; send `next` back as `?cursor=` for the next page.
public struct StratixPage<Item: Codable & Sendable>: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The page's items, in the listing's order.
    public let items: [Item]
    /// Where the next page starts (send it back as `?cursor=`), nil on the last page.
    public let next: PageCursor?

    init(_ scoped: Scoped<Page<Item>>) {
        orgID = scoped.orgID
        items = scoped.value.items
        next = scoped.value.next
    }
}

/// `POST /catalog`: a private item of the active organization.
public struct StratixNewCatalogItem: Codable, Sendable {
    /// The item's kind; `model` when omitted.
    public var kind: String?
    /// Unique within the organization.
    public var slug: String
    /// A display name, 1 to 200 characters.
    public var name: String
    /// Free-form attributes (at most 64 KiB of JSON).
    public var metadata: [String: String]?
    /// A request body with these fields.
    public init(kind: String? = nil, slug: String, name: String, metadata: [String: String]? = nil) {
        self.kind = kind
        self.slug = slug
        self.name = name
        self.metadata = metadata
    }
}

/// A catalog item created.
public struct StratixCatalogItemCreated: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The item, private to `orgID`.
    public let item: CatalogItem
}

/// `POST /runs`. The idempotency key may come here or in the `Idempotency-Key` header; a retried
/// request with the same key starts (and debits) one run.
public struct StratixStartRun: Codable, Sendable {
    /// A catalog item the organization sees (public or its own).
    public var itemID: UUID
    /// ECU to debit, at least 1.
    public var cost: Int64
    /// Makes a retried request start one run; else the `Idempotency-Key` header.
    public var idempotencyKey: String?
    /// A request body with these fields.
    public init(itemID: UUID, cost: Int64, idempotencyKey: String? = nil) {
        self.itemID = itemID
        self.cost = cost
        self.idempotencyKey = idempotencyKey
    }
}

/// A run started, and the balance after its debit.
public struct StratixRunStarted: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The run (the same one again for a repeated idempotency key).
    public let run: Run
    /// The ECU balance after it.
    public let balance: Int64
}

/// `GET /credits`: the ECU balance and a page of the ledger.
public struct StratixCredits: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The ECU balance after it.
    public let balance: Int64
    /// Ledger entries, newest first.
    public let history: [LedgerEntry]
    /// Where the next page starts (send it back as `?cursor=`), nil on the last page.
    public let next: PageCursor?
}

/// `POST /invitations`.
public struct StratixInvite: Codable, Sendable {
    /// The email to sign in as (or to invite).
    public var email: String
    /// The invitee's role; member when omitted.
    public var role: Role?
    /// A request body with these fields.
    public init(email: String, role: Role? = nil) {
        self.email = email
        self.role = role
    }
}

/// An invitation made; the token (shown once) goes into the link mailed to the invitee.
public struct StratixInvitationIssued: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The invitation as admins list it.
    public let invitation: Invitation
    /// The single-use token for the invitee's link, shown this once.
    public let token: String
}

/// `POST /invitations/accept`.
public struct StratixAcceptInvitation: Codable, Sendable {
    /// The invitation's token.
    public var token: String
    /// A request body with these fields.
    public init(token: String) { self.token = token }
}

/// Organizations joined (an accepted invitation, an auto-join) and the session's active one after.
public struct StratixJoined: ResponseCodable, Sendable {
    /// The organizations joined.
    public let joined: [StratixOrganizationEntry]
    /// The session's active organization, nil while the user belongs to none.
    public let activeOrgID: UUID?
}

/// `POST /domains` (register) and `POST /domains/verify`.
public struct StratixDomainRequest: Codable, Sendable {
    /// An email domain the organization controls.
    public var domain: String
    /// The role auto-joined users get (`POST /domains/verify`); member by default.
    public var defaultRole: Role?
    /// A request body with these fields.
    public init(domain: String, defaultRole: Role? = nil) {
        self.domain = domain
        self.defaultRole = defaultRole
    }
}

/// A domain registered: publish `challenge` as a DNS TXT record of it, then `POST /domains/verify`.
public struct StratixDomainChallenge: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The domain, lowercased.
    public let domain: String
    /// The value to publish as a TXT record of the domain.
    public let challenge: String
}

/// A domain verified and enabled for auto-join.
public struct StratixDomainVerified: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The domain, verified and enabled.
    public let domain: EmailDomain
}

/// `POST /api-keys`.
public struct StratixNewAPIKey: Codable, Sendable {
    /// A display name, 1 to 200 characters.
    public var name: String
    /// A request body with these fields.
    public init(name: String) { self.name = name }
}

/// An API key made: `secret` is shown this once (the database keeps its hash only).
public struct StratixAPIKeyIssued: ResponseCodable, Sendable {
    /// The organization this answer belongs to.
    public let orgID: UUID
    /// The key as listed (its prefix, never the secret).
    public let key: APIKey
    /// The whole key for `Authorization: Bearer`, shown this once.
    public let secret: String
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// `users`: global (no organization). Sign-in looks users up by email before any org is active.
///
/// ```swift
/// let users = UsersTable.table
/// let query = try Select.from(users).where(users.email.lowercased == email.lowercased()).renderGlobal()
/// ```
public struct UsersTable: DeclaredTable {
    public static let tableName = "users"
    public static let scoping = TableScoping.global
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var id: Column<UUID> { column("id") }
    public var email: Column<String> { column("email") }
    public var emailVerified: Column<Bool> { column("email_verified") }
    public var displayName: Column<String?> { column("display_name") }
    public var createdAt: Column<Date> { column("created_at") }

    public var columns: [any DeclaredColumn] { [id, email, emailVerified, displayName, createdAt] }
}

/// `organizations`: one row per tenant. Its organization column is `id` itself, so a scope sees
/// exactly its own organization.
public struct OrganizationsTable: DeclaredTable {
    public static let tableName = "organizations"
    public static let scoping = TableScoping.tenant(orgColumn: "id")
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var id: OrgColumn<UUID> { orgColumn() }
    public var name: Column<String> { column("name") }
    /// The settings object, decoded as `T`.
    public func settings<T: Codable & Sendable>(as type: T.Type) -> Column<JSONB<T>> { column("settings") }
    public var createdAt: Column<Date> { column("created_at") }

    public var columns: [any DeclaredColumn] { [id, name, settings(as: JSONObject.self), createdAt] }
}

/// `memberships`: (org, user, role); roles are `admin`, `member`, `viewer`.
public struct MembershipsTable: DeclaredTable {
    public static let tableName = "memberships"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var userID: Column<UUID> { column("user_id") }
    public var role: Column<String> { column("role") }
    public var createdAt: Column<Date> { column("created_at") }

    public var columns: [any DeclaredColumn] { [orgID, userID, role, createdAt] }
}

/// `invitations`: an email address invited with a role; only the token's sha256 is stored.
public struct InvitationsTable: DeclaredTable {
    public static let tableName = "invitations"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var id: Column<UUID> { column("id") }
    public var email: Column<String> { column("email") }
    public var role: Column<String> { column("role") }
    public var tokenHash: Column<Data> { column("token_hash") }
    public var invitedBy: Column<UUID?> { column("invited_by") }
    public var createdAt: Column<Date> { column("created_at") }
    public var expiresAt: Column<Date> { column("expires_at") }
    public var acceptedAt: Column<Date?> { column("accepted_at") }
    public var acceptedBy: Column<UUID?> { column("accepted_by") }
    public var revokedAt: Column<Date?> { column("revoked_at") }

    public var columns: [any DeclaredColumn] { [orgID, id, email, role, tokenHash, invitedBy, createdAt, expiresAt, acceptedAt, acceptedBy, revokedAt] }
}

/// `org_email_domains`: email domains for auto-join. `verified_at` is set only by
/// `tenantkit_verify_org_domain`; the application role cannot write it.
public struct OrgEmailDomainsTable: DeclaredTable {
    public static let tableName = "org_email_domains"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var domain: Column<String> { column("domain") }
    public var enabled: Column<Bool> { column("enabled") }
    public var defaultRole: Column<String> { column("default_role") }
    public var verifiedAt: Column<Date?> { column("verified_at") }
    public var createdAt: Column<Date> { column("created_at") }
    /// The sha256 of the open verification challenge; only `tenantkit_issue_domain_challenge` writes it.
    public var challengeHash: Column<Data?> { column("challenge_hash") }
    public var challengeExpiresAt: Column<Date?> { column("challenge_expires_at") }

    public var columns: [any DeclaredColumn] { [orgID, domain, enabled, defaultRole, verifiedAt, createdAt, challengeHash, challengeExpiresAt] }
}

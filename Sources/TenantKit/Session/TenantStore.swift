import Foundation
import Logging
import Postgres
import TenantSQL

/// A user of the product (global: one row per person, whatever their organizations).
public struct User: Codable, Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let emailVerified: Bool
    public let displayName: String?
}

/// An organization in the user's org switcher.
public struct Membership: Codable, Sendable, Equatable {
    public let orgID: UUID
    public let name: String
    public let role: Role
    public let joinedAt: Date
}

/// The entry point: a pool connected as the application role, and the calls that come before an
/// organization is active (users, sign-in, invitations, API keys, sessions).
///
/// ```swift
/// let store = TenantStore(pool: PostgresPool(configuration: try .fromEnvironment()))
/// let ada = try await store.createUser(email: "ada@example.com", emailVerified: true)
/// let session = try await store.session(for: ada.id)
/// let acme = try await session.createOrganization(named: "Acme")   // ada is its admin; it becomes active
/// let page = try await session.read { org in try await org.catalog.page() }
/// ```
public struct TenantStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    // MARK: Users

    public func createUser(email: String, displayName: String? = nil, emailVerified: Bool = false) async throws -> User {
        let email = try validatedEmail(email)
        let u = UsersTable.table
        let insert = Insert.into(u).values(u.email.set(email), u.displayName.set(displayName), u.emailVerified.set(emailVerified))
            .returning(u.id, u.email, u.emailVerified, u.displayName)
        return try await mappingDuplicate("users_email_lower_key", as: "a user with this email") {
            try await pool.fetchOne(try insert.renderGlobal(), as: User.self)
        }
    }

    public func user(email: String) async throws -> User? {
        let u = UsersTable.table
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        return try await pool.fetchOptional(
            try Select.from(u).columns(u.id, u.email, u.emailVerified, u.displayName).where(u.email.lowercased == email).renderGlobal(),
            as: User.self)
    }

    /// Marks the user's email verified (after the application checked it), which auto-join requires.
    public func markEmailVerified(_ userID: UUID) async throws {
        let u = UsersTable.table
        guard try await pool.execute(try Update.table(u).set(u.emailVerified.set(true)).where(u.id == userID).renderGlobal()) == 1 else {
            throw TenantError.notFound("user \(userID)")
        }
    }

    /// The user's organizations, by name: what the org switcher shows.
    public func organizations(of userID: UUID) async throws -> [Membership] {
        try await pool.fetchAll("SELECT org_id, name, role, joined_at FROM tenantkit_user_organizations(\(userID))", as: Membership.self)
    }

    // MARK: Joining

    /// Creates an organization: the user becomes its admin, it gets its ECU account, and its audit
    /// log records the creation, all in one transaction.
    public func createOrganization(named name: String, by userID: UUID) async throws -> UUID {
        let name = try validatedName(name, "an organization name")
        return try await pool.withTransaction { tx in
            let orgID: UUID
            do {
                orgID = try await tx.fetchOne("SELECT tenantkit_create_organization(\(userID), \(name))", as: UUID.self)
            } catch let error as PostgresError where error.code == SQLState("P0002") {
                throw TenantError.notFound("user \(userID)")
            }
            try await appendAudit(AuditRepository.entry("organization.created", target: nil, details: ["name": name]),
                                  in: orgID, by: userID, on: tx)
            return orgID
        }
    }

    /// Redeems an invitation token for the signed-in user; returns the organization joined. The
    /// membership and its audit entry are written in one transaction.
    public func acceptInvitation(token: String, userID: UUID) async throws -> Membership {
        let orgID: UUID
        do {
            orgID = try await joining(userID, via: "invitation") { tx in
                try await tx.fetchAll("SELECT org_id, role FROM tenantkit_accept_invitation(\(userID), \(token))", as: Joined.self)
            }[0]
        } catch let error as PostgresError {
            switch error.code.code {
            case "TK001": throw TenantError.invitationRejected(.unknownToken)
            case "TK002": throw TenantError.invitationRejected(.expired)
            case "TK003": throw TenantError.invitationRejected(.alreadyUsed)
            case "TK004": throw TenantError.invitationRejected(.wrongEmail)
            case "P0002": throw TenantError.notFound("user \(userID)")
            default: throw error
            }
        }
        guard let membership = try await organizations(of: userID).first(where: { $0.orgID == orgID }) else {
            throw TenantError.notAMember(orgID: orgID)
        }
        return membership
    }

    /// Sign-in hook for email-domain auto-join: the user joins every organization that verified and
    /// enabled their (verified) email's domain and that they are not in yet. Returns those joined.
    @discardableResult
    public func signIn(userID: UUID) async throws -> [UUID] {
        try await joining(userID, via: "email domain") { tx in
            try await tx.fetchAll("SELECT org_id, role FROM tenantkit_join_by_email_domain(\(userID))", as: Joined.self)
        }
    }

    /// Appends an audit entry to `orgID`'s log inside a pre-tenant transaction, which has no scope
    /// of its own: the org's context and the entry go in one round trip.
    private func appendAudit(_ entry: Insert, in orgID: UUID, by userID: UUID, on tx: PostgresTransaction) async throws {
        // The scope only renders here (its host is never used); the statements go through `tx`.
        let scope = OrgScope(orgID: orgID, actor: .user(userID), on: pool)
        _ = try await tx.pipeline([scope.contextStatement, try scope.render(entry)])
    }

    private struct Joined: Decodable, Sendable { let orgID: UUID; let role: Role }

    /// Runs a pre-tenant join and writes a `member.joined` audit entry in each organization joined,
    /// in the same transaction.
    private func joining(_ userID: UUID, via route: String, _ join: @escaping @Sendable (PostgresTransaction) async throws -> [Joined]) async throws -> [UUID] {
        try await pool.withTransaction { tx in
            let joined = try await join(tx)
            for membership in joined {
                let entry = AuditRepository.entry("member.joined", target: userID.uuidString.lowercased(),
                                                  details: ["via": route, "role": membership.role.rawValue])
                try await appendAudit(entry, in: membership.orgID, by: userID, on: tx)
            }
            return joined.map(\.orgID)
        }
    }

    // MARK: Sessions

    /// A session for a signed-in user. The active organization is `activeOrgID` when given (it must
    /// be one of theirs), else their first organization, else none.
    public func session(for userID: UUID, activeOrgID: UUID? = nil) async throws -> OrgSession {
        let organizations = try await organizations(of: userID)
        if let activeOrgID, !organizations.contains(where: { $0.orgID == activeOrgID }) {
            throw TenantError.notAMember(orgID: activeOrgID)
        }
        return OrgSession(store: self, actor: .user(userID), activeOrgID: activeOrgID ?? organizations.first?.orgID, pinned: false)
    }

    /// Authenticates a presented API key into a session pinned to the key's organization, and
    /// records the use. Unknown, revoked and malformed keys fail alike, with ``TenantError/invalidAPIKey``.
    public func session(apiKey: String) async throws -> OrgSession {
        let key = try await authenticate(apiKey: apiKey)
        return OrgSession(store: self, actor: .apiKey(key.apiKeyID), activeOrgID: key.orgID, pinned: true)
    }

    /// Checks a presented API key: finds the active keys with its visible prefix, compares SHA-256
    /// hashes in constant time, and stamps `last_used_at`.
    public func authenticate(apiKey: String) async throws -> (orgID: UUID, apiKeyID: UUID) {
        struct Candidate: Decodable { let orgID: UUID; let apiKeyID: UUID; let keyHash: Data }
        let presented = Secret.hash(apiKey)
        let parts = apiKey.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        let prefix = parts.count == 3 && parts[0] == "tk" && parts[1].count == 8 ? "tk_\(parts[1])" : ""
        let candidates = prefix.isEmpty ? [] : try await pool.fetchAll(
            "SELECT org_id, api_key_id, key_hash FROM tenantkit_api_key_candidates(\(prefix))", as: Candidate.self)
        // Compare against every candidate, matched or not, so timing does not depend on where a match is.
        var match: Candidate?
        for candidate in candidates where Secret.constantTimeEquals(candidate.keyHash, presented) { match = match ?? candidate }
        guard let match else { throw TenantError.invalidAPIKey }
        let scope = OrgScope(orgID: match.orgID, actor: .apiKey(match.apiKeyID), on: pool)
        let k = APIKeysTable.table
        let touched = try await scope.execute(
            Update.table(k).set(k.lastUsedAt.set(now(as: Date?.self))).where(k.id == match.apiKeyID && k.revokedAt.isNull))
        guard touched == 1 else { throw TenantError.invalidAPIKey }  // revoked in the meantime
        return (match.orgID, match.apiKeyID)
    }
}

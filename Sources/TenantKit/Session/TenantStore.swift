import Foundation
import Logging
import TenantKitPostgres
import TenantSQL

/// The entry point: a pool connected as the application role, the key its tenant context is
/// signed with, and the calls that come before an organization is active (users, sign-in,
/// invitations, API keys, sessions).
///
/// ```swift
/// let store = TenantStore(pool: PostgresPool(configuration: try .fromEnvironment()), key: try .fromEnvironment())
/// let ada = try await store.createUser(email: "ada@example.com", emailVerified: true)
/// let session = try await store.session(for: ada.id)
/// let acme = try await session.createOrganization(named: "Acme")   // ada is its admin; it becomes active
/// let page = try await session.read { org in try await org.catalog.page() }
/// ```
public struct TenantStore: Sendable {
    public let pool: PostgresPool
    /// Signs every scope's context; the database verifies it.
    public let context: SignedTenantContext
    /// This process's live persistent sessions, which notifications from other instances reach.
    let liveSessions = LiveSessions()
    /// When this process last recorded each API key's use (``withAPIKey(_:_:)``).
    let keyUses = APIKeyUses()

    /// Database time and statements of the busiest organizations, charged by every scope the store
    /// makes: `store.usage.top(10)` (see ``OrgUsage``).
    public let usage: OrgUsage

    /// A store on `pool` signing with `key`.
    /// - Parameters:
    ///   - pool: a pool logged in as the application role (`tenantkit_app`).
    ///   - key: the key the database verifies claims with (installed by `tenantkit keys install`).
    ///   - transport: how the claim travels; `.setLocal` on a Citus coordinator (see ``SignedTenantContext/Transport``),
    ///     whose pool should close tainted connections (``TaintedConnections/close``; a warning is logged otherwise).
    ///   - usage: where the store's scopes charge their work; 100 slots by default.
    public init(
        pool: PostgresPool, key: TenantContextKey, transport: SignedTenantContext.Transport = .setConfig, usage: OrgUsage = OrgUsage()
    ) {
        self.pool = pool
        self.usage = usage
        self.context = SignedTenantContext(key: key, transport: transport)
        if transport == .setLocal, pool.taintedConnections == .reset {
            pool.logger.warning("""
                claims travel as SET LOCAL (Citus) but the pool resets tainted connections: on Citus, DISCARD ALL                 leaves the coordinator's worker sessions as they were; make the pool with taintedConnections: .close
                """)
        }
    }

    /// A scope of `orgID` for `actor`, signed with the store's key.
    public func scope(_ orgID: UUID, as actor: OrgScope.Actor) -> OrgScope {
        OrgScope(orgID: orgID, actor: actor, context: context, on: pool, usage: usage)
    }

    /// The repositories of `orgID` for a platform operator (support, billing), on a pool whose login
    /// is a member of `tenantkit_operator`: the one way to grant credits
    /// (``CreditRepository/grant(_:reason:idempotencyKey:)``). The database refuses operator claims
    /// on any other login, so the application role cannot mint credits even with the signing key.
    public func platformOperator(_ operatorID: UUID, in orgID: UUID, on operatorPool: PostgresPool) -> ActiveOrg {
        ActiveOrg(scope: OrgScope(orgID: orgID, actor: .platformOperator(operatorID), context: context, on: operatorPool, usage: usage))
    }

    /// Runs statements as `actor` with no organization chosen: the pre-tenant entry points.
    func preTenant(_ actor: OrgScope.Actor, _ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        let context = self.context
        return try await pool.run(queries, after: { try context.statements(orgID: nil, actor: actor, backendPID: $0) },
                                  inTransactionBlock: context.requiresTransactionBlock)
    }

    // MARK: Users

    /// Signs a user up. `emailVerified: true` says the application has already proven the address
    /// (see ``markEmailVerified(_:)``).
    public func createUser(email: String, displayName: String? = nil, emailVerified: Bool = false) async throws -> User {
        let email = try validatedEmail(email)
        let id = try await mappingDuplicate("users_email_lower_key", as: "a user with this email") {
            try await pool.fetchOne("SELECT tenantkit_create_user(\(email), \(displayName))", as: UUID.self)
        }
        if emailVerified { try await markEmailVerified(id) }
        return User(id: id, email: email, emailVerified: emailVerified, displayName: displayName)
    }

    /// The user with this email, for sign-in.
    public func user(email: String) async throws -> User? {
        let email = email.trimmingCharacters(in: .whitespaces)
        return try await pool.fetchOptional(
            "SELECT id, email, email_verified, display_name FROM tenantkit_user_by_email(\(email))", as: User.self)
    }

    /// The user, as they see themselves.
    public func user(id userID: UUID) async throws -> User {
        let u = UsersTable.table
        let rows = try await preTenant(.user(userID), [try Select.from(u).columns(u.columns(excluding: u.createdAt))
            .where(u.id == userID).renderGlobal()])
        guard let user = try rows[0].first?.decode(as: User.self) else { throw TenantError.notFound("user \(userID)") }
        return user
    }

    /// Marks the user's current email verified, which auto-join requires. Call it once the
    /// application has proven the address (a link it mailed was followed): the database accepts it
    /// only with the application's signature over the user and that email.
    public func markEmailVerified(_ userID: UUID) async throws {
        let email = try await user(id: userID).email
        let proof = context.key.proof(purpose: "email", subject: "\(userID.uuidString.lowercased()):\(email)")
        do {
            try await pool.execute("SELECT tenantkit_verify_email(\(userID), \(proof))")
        } catch let error as PostgresError where error.code == SQLState("TK006") {
            throw TenantError.notFound("user \(userID) with email \(email)")  // changed meanwhile
        }
    }

    /// Changes the user's email; it is unverified until ``markEmailVerified(_:)`` again.
    public func changeEmail(of userID: UUID, to email: String) async throws {
        let email = try validatedEmail(email)
        try await mappingDuplicate("users_email_lower_key", as: "a user with this email") {
            _ = try await preTenant(.user(userID), ["SELECT tenantkit_change_email(\(email))"])
        }
    }

    /// The user's organizations, by name: what the org switcher shows.
    public func organizations(of userID: UUID) async throws -> [Membership] {
        try await preTenant(.user(userID), ["SELECT org_id, name, role, joined_at FROM tenantkit_user_organizations()"])[0]
            .decode(as: Membership.self)
    }

    // MARK: Joining

    /// Creates an organization: the user becomes its admin, it gets its ECU account, and its audit
    /// log records the creation, all in one transaction.
    public func createOrganization(named name: String, by userID: UUID) async throws -> UUID {
        let name = try validatedName(name, "an organization name")
        do {
            return try await preTenant(.user(userID), ["SELECT tenantkit_create_organization(\(name))"])[0].decode(as: UUID.self)[0]
        } catch let error as PostgresError where error.code == SQLState("P0002") {
            throw TenantError.notFound("user \(userID)")
        }
    }

    /// Redeems an invitation token for the signed-in user; returns the organization joined. The
    /// membership and its audit entry are written in one transaction.
    public func acceptInvitation(token: String, userID: UUID) async throws -> Membership {
        let orgID: UUID
        do {
            orgID = try await preTenant(.user(userID), ["SELECT org_id, role FROM tenantkit_accept_invitation(\(token))"])[0]
                .decode(as: Joined.self)[0].orgID
        } catch let error as PostgresError {
            switch error.code.code {
            case "TK001": throw TenantError.invitationRejected(.unknownToken)
            case "TK002": throw TenantError.invitationRejected(.expired)
            case "TK003": throw TenantError.invitationRejected(.alreadyUsed)
            case "TK004": throw TenantError.invitationRejected(.wrongEmail)
            case "23503": throw TenantError.notFound("user \(userID)")
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
        try await preTenant(.user(userID), ["SELECT org_id, role FROM tenantkit_join_by_email_domain()"])[0]
            .decode(as: Joined.self).map(\.orgID)
    }

    private struct Joined: Decodable, Sendable { let orgID: UUID; let role: Role }

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
        return OrgSession(store: self, actor: key.actor, activeOrgID: key.orgID, pinned: true)
    }

    /// Runs `body` with the repositories of a presented API key's organization, acting as the key:
    /// for a request that presents one. A key of the current format names its organization, so
    /// authenticating it costs nothing extra: the database checks it with the first statement
    /// (one round trip for authentication and a point read). Unknown, revoked and malformed keys
    /// fail alike, with ``TenantError/invalidAPIKey``.
    ///
    /// ```swift
    /// let page = try await store.withAPIKey(request.bearerToken) { org in try await org.catalog.page() }
    /// ```
    public func withAPIKey<T: Sendable>(_ apiKey: String, _ body: (ActiveOrg) async throws -> T) async throws -> T {
        let presented = try await presentedKey(apiKey)
        do {
            // Through `SET LOCAL` (Citus) a key's statements only check it: its use is recorded
            // apart, in a round trip of its own at most once a minute.
            if context.transport == .setLocal, keyUses.isDue(presented.apiKeyID) {
                do { try await recordUse(of: presented) } catch { keyUses.forget(presented.apiKeyID); throw error }
            }
            return try await body(ActiveOrg(scope: scope(presented.orgID, as: presented.actor)))
        } catch let error as PostgresError where error.code == SQLState("TK007") {
            throw TenantError.invalidAPIKey
        }
    }

    /// The organization and actor of a presented API key, checked by the database. A key of the
    /// current format names its organization and id, so the check is the one round trip of its
    /// first statement; this call makes that round trip on its own.
    public func authenticate(apiKey: String) async throws -> (orgID: UUID, apiKeyID: UUID, actor: OrgScope.Actor) {
        let presented = try await presentedKey(apiKey)
        do {
            try await recordUse(of: presented)
        } catch let error as PostgresError where error.code == SQLState("TK007") {
            throw TenantError.invalidAPIKey
        }
        return presented
    }

    /// Checks the key and records its use (`api_keys.last_used_at`, at most once a minute), in a
    /// transaction of its own: on Citus the owner's write to `api_keys`, a reference table, may not
    /// share a transaction with the application's reads beside the organization's shards.
    private func recordUse(of presented: (orgID: UUID, apiKeyID: UUID, actor: OrgScope.Actor)) async throws {
        // Through set_config the scope's own context statement already records it: only a round trip is needed.
        let statement: PostgresQuery = context.transport == .setLocal ? "SELECT tenantkit_use_api_key()" : "SELECT 1"
        _ = try await scope(presented.orgID, as: presented.actor).query(statement)
    }

    /// What a presented key says about itself (no round trip for keys of the current format).
    func presentedKey(_ apiKey: String) async throws -> (orgID: UUID, apiKeyID: UUID, actor: OrgScope.Actor) {
        let hash = SHA256.digest(Array(apiKey.utf8))
        if let parsed = APIKeyText(apiKey) {
            return (parsed.orgID, parsed.keyID, .apiKey(parsed.keyID, presentedHash: hash))
        }
        // Keys of the first format (tk_<8 hex>_<secret>) name neither: find the one key with that
        // prefix and hash (both unique across orgs).
        struct Found: Decodable { let orgID: UUID; let apiKeyID: UUID }
        let parts = apiKey.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tk", parts[1].count == 8, !parts[2].isEmpty else { throw TenantError.invalidAPIKey }
        let found = try await pool.fetchAll(
            "SELECT org_id, api_key_id FROM tenantkit_authenticate_api_key(\("tk_\(parts[1])"), \(Data(hash)))", as: Found.self)
        guard found.count == 1 else { throw TenantError.invalidAPIKey }
        return (found[0].orgID, found[0].apiKeyID, .apiKey(found[0].apiKeyID, presentedHash: hash))
    }
}


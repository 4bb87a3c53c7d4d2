import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TenantKitPostgres
import ServiceLifecycle
import TenantKit
import TenantKitHummingbird

/// What the Stratix API needs besides its store.
public struct StratixConfiguration: Sendable {
    /// The cookie holding the persistent session's token.
    public var sessionCookieName = "stratix_session"
    /// How long a session lasts after sign-in (TenantKit allows up to 90 days).
    public var sessionLifetime: Duration = .seconds(14 * 24 * 3600)
    /// Marks the cookie `Secure` (HTTPS only). Off only for local development over plain HTTP.
    public var secureCookies = true
    /// ECU the platform grants each new organization, and the operator login that may grant it
    /// (the application role cannot mint credits). Nil grants nothing: new organizations start at 0.
    public var welcomeCredits: StratixWelcomeCredits?
    /// The TXT records published at a domain: the application's own DNS lookup, which
    /// `POST /domains/verify` checks the domain's challenge against. The default finds none, so no
    /// domain verifies until a real lookup is plugged in.
    public var txtRecords: @Sendable (_ domain: String) async throws -> [String] = { _ in [] }
    /// Runs inside every `GET /catalog` read before the page is fetched, in the read's organization.
    /// For tests (a slow read in one organization); nil in a real service.
    public var catalogReadHook: (@Sendable (ActiveOrg) async throws -> Void)?

    /// The defaults: 14-day secure cookies, no welcome credits, no DNS lookup, no hook.
    public init() {}
}

/// Credits granted to every new organization by a platform operator.
public struct StratixWelcomeCredits: Sendable {
    /// ECU per new organization.
    public var amount: Int64
    /// A pool whose login is a member of `tenantkit_operator` (the database refuses grants otherwise).
    public var operatorPool: PostgresPool
    /// The operator the grants are recorded under.
    public var operatorID: UUID

    /// - Parameters:
    ///   - amount: ECU per new organization.
    ///   - operatorPool: a pool logged in as a platform operator.
    ///   - operatorID: the operator the grants are recorded under.
    public init(amount: Int64, operatorPool: PostgresPool, operatorID: UUID) {
        self.amount = amount
        self.operatorPool = operatorPool
        self.operatorID = operatorID
    }
}

/// Builds the Stratix API: the router, and the application with its services.
public enum StratixService {
    /// The application: the HTTP server, the pool as a service (drained after the server stops) and
    /// the follower of session changes made on other instances.
    public static func application(
        store: TenantStore,
        listening listenerConfiguration: PostgresConfiguration,
        configuration: StratixConfiguration = StratixConfiguration(),
        address: BindAddress = .hostname("127.0.0.1", port: 8080),
        logger: Logger = Logger(label: "stratix.api")
    ) -> Application<RouterResponder<StratixRequestContext>> {
        Application(
            router: router(store: store, configuration: configuration),
            configuration: .init(address: address, serverName: "stratix-api"),
            // Shut down in reverse order: the server first, then the follower, then the pool.
            services: [TenantPoolService(pool: store.pool), TenantSessionFollower(store: store, listening: listenerConfiguration)],
            logger: logger)
    }

    /// Every route of the API (see the package's README for the list).
    public static func router(store: TenantStore, configuration: StratixConfiguration = StratixConfiguration()) -> Router<StratixRequestContext> {
        let router = Router(context: StratixRequestContext.self)
        router.add(middleware: TenantRequestIDMiddleware())
        router.add(middleware: TenantErrorMiddleware())

        router.get("/health") { _, _ in "ok" }
        router.post("/sign-in") { request, context in
            try await signIn(request, context, store: store, configuration: configuration)
        }

        let api = router.group().add(middleware: TenantAuthMiddleware<StratixRequestContext>(
            store: store, sessions: TenantStoreSessions(store: store), sessionCookieName: configuration.sessionCookieName))
        addSessionRoutes(api, store: store, configuration: configuration)
        addCatalogAndRunRoutes(api, configuration: configuration)
        addMembershipRoutes(api, store: store, configuration: configuration)
        return router
    }

    // MARK: Sign-in, organizations, the switcher

    /// The sign-in stub: whoever names an email is signed in as its user (created if new). A real
    /// service proves the address first (a mailed link, an identity provider), then does the same.
    static func signIn(_ request: Request, _ context: StratixRequestContext, store: TenantStore, configuration: StratixConfiguration) async throws -> Response {
        let input = try await request.decode(as: StratixSignInRequest.self, context: context)
        let user: User
        if let existing = try await store.user(email: input.email) {
            user = existing
        } else {
            do {
                // Verified: the stub stands for a proof of the address, which auto-join needs.
                user = try await store.createUser(email: input.email, displayName: input.displayName, emailVerified: true)
            } catch TenantError.alreadyExists {
                // Signed up by a concurrent request meanwhile.
                guard let raced = try await store.user(email: input.email) else { throw TenantError.alreadyExists("a user with this email") }
                user = raced
            }
        }
        let autoJoined = try await store.signIn(userID: user.id)
        let opened = try await store.openSession(for: user.id, lifetime: configuration.sessionLifetime)
        let body = StratixSignedIn(userID: user.id, email: user.email, activeOrgID: await opened.session.activeOrgID, autoJoinedOrgIDs: autoJoined)
        var response = try body.response(from: request, context: context)
        response.setCookie(Cookie(
            name: configuration.sessionCookieName, value: opened.token, maxAge: Int(configuration.sessionLifetime.components.seconds),
            path: "/", secure: configuration.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    static func addSessionRoutes(_ api: RouterGroup<StratixRequestContext>, store: TenantStore, configuration: StratixConfiguration) {
        api.post("/sign-out") { _, context -> Response in
            let (_, session) = try context.requireUser()
            try await store.closeSession(session)
            var response = Response(status: .noContent)
            response.setCookie(Cookie(name: configuration.sessionCookieName, value: "", maxAge: 0, path: "/",
                                      secure: configuration.secureCookies, httpOnly: true, sameSite: .lax))
            return response
        }

        api.post("/orgs") { request, context -> EditedResponse<StratixOrganizationEntry> in
            let (userID, session) = try context.requireUser()
            let input = try await request.decode(as: StratixNewOrganization.self, context: context)
            let orgID = try await session.createOrganization(named: input.name)  // admin; it becomes active, persisted
            if let welcome = configuration.welcomeCredits {
                _ = try await store.platformOperator(welcome.operatorID, in: orgID, on: welcome.operatorPool).credits
                    .grant(welcome.amount, reason: "welcome credits", idempotencyKey: "welcome")
            }
            let membership = try await store.organizations(of: userID).first { $0.orgID == orgID }
            guard let membership else { throw TenantError.notAMember(orgID: orgID) }
            return EditedResponse(status: .created, response: StratixOrganizationEntry(membership))
        }

        api.get("/orgs") { _, context -> StratixSwitcher in
            try await switcher(context)
        }

        api.post("/session/switch") { request, context -> StratixSwitcher in
            let (_, session) = try context.requireUser()
            let input = try await request.decode(as: StratixSwitchRequest.self, context: context)
            // Persisted and announced: every instance's copy of this session follows, in-flight reads re-issued.
            try await session.switch(to: input.orgID)
            return try await switcher(context)
        }
    }

    /// The switcher of the request's principal: a user's organizations, or an API key's own one.
    static func switcher(_ context: StratixRequestContext) async throws -> StratixSwitcher {
        if let session = context.tenant.orgSession {
            let organizations = try await session.organizations().map(StratixOrganizationEntry.init)
            return StratixSwitcher(activeOrgID: await session.activeOrgID, organizations: organizations)
        }
        let org = try context.requireActiveOrg()
        let organization = try await org.organization.get()
        // A key acts with the member role in its own organization.
        return StratixSwitcher(activeOrgID: org.id, organizations: [
            StratixOrganizationEntry(orgID: organization.id, name: organization.name, role: .member, joinedAt: nil),
        ])
    }

    // MARK: Catalog, runs, credits, audit

    static func addCatalogAndRunRoutes(_ api: RouterGroup<StratixRequestContext>, configuration: StratixConfiguration) {
        api.get("/catalog") { request, context -> StratixPage<CatalogItem> in
            let query = request.uri.queryParameters
            let cursor = pageCursor(request), limit = try pageLimit(request)
            let kind = query["kind"].map(String.init), search = query["search"].map(String.init)
            let hook = configuration.catalogReadHook
            return StratixPage(try await context.read { org in
                try await hook?(org)
                return try await org.catalog.page(kind: kind, search: search, after: cursor, limit: limit)
            })
        }

        api.post("/catalog") { request, context -> EditedResponse<StratixCatalogItemCreated> in
            let input = try await request.decode(as: StratixNewCatalogItem.self, context: context)
            let created = try await context.write { org in
                try await org.catalog.create(kind: input.kind ?? "model", slug: input.slug, name: input.name, metadata: input.metadata ?? [:])
            }
            return EditedResponse(status: .created, response: StratixCatalogItemCreated(orgID: created.orgID, item: created.value))
        }

        api.post("/runs") { request, context -> EditedResponse<StratixRunStarted> in
            let input = try await request.decode(as: StratixStartRun.self, context: context)
            // Without a key a retried request would start a second run: make one up, unrepeatable.
            let key = input.idempotencyKey ?? request.headers[idempotencyKeyHeader] ?? "request-\(UUID().uuidString.lowercased())"
            let started = try await context.write { org in
                let run = try await org.runs.start(itemID: input.itemID, cost: input.cost, idempotencyKey: key)  // debit + run + audit
                return (run: run, balance: try await org.credits.balance())
            }
            return EditedResponse(status: .created, response: StratixRunStarted(orgID: started.orgID, run: started.value.run, balance: started.value.balance))
        }

        api.get("/credits") { request, context -> StratixCredits in
            let cursor = pageCursor(request), limit = try pageLimit(request)
            let credits = try await context.read { org in
                (balance: try await org.credits.balance(), history: try await org.credits.history(after: cursor, limit: limit))
            }
            return StratixCredits(orgID: credits.orgID, balance: credits.value.balance, history: credits.value.history.items, next: credits.value.history.next)
        }

        api.get("/audit") { request, context -> StratixPage<AuditEntry> in
            let query = request.uri.queryParameters
            let cursor = pageCursor(request), limit = try pageLimit(request)
            let filter = AuditFilter(action: query["action"].map(String.init))
            return StratixPage(try await context.read { org in try await org.audit.page(filter, after: cursor, limit: limit) })
        }
    }

    // MARK: Invitations, domains, API keys

    static func addMembershipRoutes(_ api: RouterGroup<StratixRequestContext>, store: TenantStore, configuration: StratixConfiguration) {
        api.post("/invitations") { request, context -> EditedResponse<StratixInvitationIssued> in
            let input = try await request.decode(as: StratixInvite.self, context: context)
            let issued = try await context.write { org in try await org.invitations.invite(email: input.email, role: input.role ?? .member) }
            let body = StratixInvitationIssued(orgID: issued.orgID, invitation: issued.value.invitation, token: issued.value.token)
            return EditedResponse(status: .created, response: body)
        }

        api.post("/invitations/accept") { request, context -> StratixJoined in
            let (userID, session) = try context.requireUser()
            let input = try await request.decode(as: StratixAcceptInvitation.self, context: context)
            let membership = try await store.acceptInvitation(token: input.token, userID: userID)
            return try await joined([membership], session)
        }

        api.post("/domains") { request, context -> EditedResponse<StratixDomainChallenge> in
            let input = try await request.decode(as: StratixDomainRequest.self, context: context)
            let challenge = try await context.write { org in
                try await org.domains.register(input.domain, defaultRole: input.defaultRole ?? .member)
                return try await org.domains.challenge(for: input.domain)
            }
            return EditedResponse(status: .created, response: StratixDomainChallenge(orgID: challenge.orgID, domain: input.domain, challenge: challenge.value))
        }

        api.post("/domains/verify") { request, context -> StratixDomainVerified in
            let input = try await request.decode(as: StratixDomainRequest.self, context: context)
            let records = try await configuration.txtRecords(input.domain)
            let verified = try await context.write { org in
                // The database accepts a record only if it is the challenge it issued (kept hashed).
                var found = false
                for record in records.prefix(20) where !found {
                    do {
                        try await org.domains.markVerified(input.domain, challenge: record)
                        found = true
                    } catch TenantError.notFound {
                        continue
                    } catch TenantError.invalidInput {
                        continue
                    }
                }
                guard found else { throw TenantError.notFound("a published challenge for \(input.domain)") }
                try await org.domains.setAutoJoin(input.domain, enabled: true, defaultRole: input.defaultRole ?? .member)
                guard let domain = try await org.domains.list().first(where: { $0.domain == input.domain.lowercased() }) else {
                    throw TenantError.notFound("domain \(input.domain)")
                }
                return domain
            }
            return StratixDomainVerified(orgID: verified.orgID, domain: verified.value)
        }

        api.post("/domains/join") { _, context -> StratixJoined in
            let (userID, session) = try context.requireUser()
            let joinedIDs = try await store.signIn(userID: userID)  // every enabled domain matching the verified email
            let memberships = try await store.organizations(of: userID).filter { joinedIDs.contains($0.orgID) }
            return try await joined(memberships, session)
        }

        api.post("/api-keys") { request, context -> EditedResponse<StratixAPIKeyIssued> in
            // Issued by a signed-in admin for the active organization; the key stays in it.
            _ = try context.requireUser()
            let input = try await request.decode(as: StratixNewAPIKey.self, context: context)
            let issued = try await context.write { org in try await org.apiKeys.create(name: input.name) }  // admins only
            return EditedResponse(status: .created, response: StratixAPIKeyIssued(orgID: issued.orgID, key: issued.value.key, secret: issued.value.secret))
        }
    }

    /// Organizations just joined; a session with no active organization yet moves into the first.
    static func joined(_ memberships: [Membership], _ session: OrgSession) async throws -> StratixJoined {
        if await session.activeOrgID == nil, let first = memberships.first {
            try await session.switch(to: first.orgID)
        }
        return StratixJoined(joined: memberships.map(StratixOrganizationEntry.init), activeOrgID: await session.activeOrgID)
    }

    // MARK: Query parameters

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!

    static func pageCursor(_ request: Request) -> PageCursor? {
        request.uri.queryParameters["cursor"].map { PageCursor(text: String($0)) }  // checked by the listing that reads it
    }

    static func pageLimit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return 50 }
        guard let limit = Int(text) else { throw TenantError.invalidInput("limit is a number") }
        return limit  // 1...500, checked by the listing
    }
}

import Foundation
import Hummingbird
import TenantKitPostgres
import TenantKit

/// Resolves the request's principal and active organization into the context's
/// ``TenantRequestState``: a bearer API key (`Authorization: Bearer tk_...`) or, failing that, a
/// session cookie looked up through a ``TenantSessionResolver``.
///
/// A presented credential that does not check out is a 401, never a fall-back to anonymous. A
/// request with no credential is a 401 too, unless `requiresAuthentication` is false (then the
/// handler sees a nil ``TenantRequestContextProtocol/principal``).
///
/// ```swift
/// router.add(middleware: TenantRequestIDMiddleware())
/// router.add(middleware: TenantErrorMiddleware())
/// router.add(middleware: TenantAuthMiddleware(store: store, sessions: sessions))
/// ```
public struct TenantAuthMiddleware<Context: TenantRequestContextProtocol>: RouterMiddleware {
    /// When a presented API key is checked against the database.
    public enum APIKeyCheck: Sendable {
        /// Before the handler runs, in a round trip of its own (``TenantKit/TenantStore/authenticate(apiKey:)``):
        /// a handler may trust the principal even if it never touches the database.
        case beforeHandler
        /// With the handler's first statement, in the same round trip (``TenantKit/TenantStore/withAPIKey(_:_:)``).
        /// Saves a round trip per request, but a handler that answers without a statement answers
        /// an unchecked key: use it only on routes whose every response reads through `activeOrg`.
        case withFirstStatement
    }

    /// The store whose pool and signing key the request's repositories use.
    public let store: TenantStore
    /// Resolves session cookies; nil accepts API keys only.
    public let sessions: (any TenantSessionResolver)?
    /// The cookie holding the session id.
    public let sessionCookieName: String
    /// When a presented API key is checked.
    public let apiKeyCheck: APIKeyCheck
    /// False lets requests without any credential through, anonymous.
    public let requiresAuthentication: Bool

    /// - Parameters:
    ///   - store: the store whose pool and signing key the request's repositories use.
    ///   - sessions: resolves session cookies; nil accepts API keys only.
    ///   - sessionCookieName: the cookie holding the session id.
    ///   - apiKeyCheck: see ``APIKeyCheck``.
    ///   - requiresAuthentication: false lets requests without any credential through, anonymous.
    public init(
        store: TenantStore,
        sessions: (any TenantSessionResolver)? = nil,
        sessionCookieName: String = "tenantkit_session",
        apiKeyCheck: APIKeyCheck = .beforeHandler,
        requiresAuthentication: Bool = true
    ) {
        self.store = store
        self.sessions = sessions
        self.sessionCookieName = sessionCookieName
        self.apiKeyCheck = apiKeyCheck
        self.requiresAuthentication = requiresAuthentication
    }

    /// Resolves the principal, then calls `next` with it in the context; throws a 401
    /// (``TenantHTTPError/unauthenticated`` or ``TenantKit/TenantError/invalidAPIKey``) otherwise.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let authorization = request.headers[.authorization] {
            guard let key = Self.bearerToken(authorization) else { throw TenantHTTPError.unauthenticated }
            return try await withAPIKey(key, request, context, next)
        }
        if let sessions, let cookie = request.cookies[sessionCookieName] {
            // Bounded, so a huge cookie costs the resolver nothing.
            guard cookie.value.utf8.count <= 512, let session = try await sessions.session(id: cookie.value) else {
                throw TenantHTTPError.unauthenticated
            }
            var context = context
            context.tenant.principal = .user(session.userID)
            context.tenant.activeOrg = session.activeOrgID.map { ActiveOrg(scope: store.scope($0, as: .user(session.userID))) }
            context.tenant.orgSession = session.orgSession
            return try await next(request, context)
        }
        guard !requiresAuthentication else { throw TenantHTTPError.unauthenticated }
        return try await next(request, context)
    }

    private func withAPIKey(
        _ key: String, _ request: Request, _ context: Context, _ next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        switch apiKeyCheck {
        case .beforeHandler:
            let presented = try await store.authenticate(apiKey: key)
            context.tenant.principal = .apiKey(id: presented.apiKeyID, orgID: presented.orgID)
            context.tenant.activeOrg = ActiveOrg(scope: store.scope(presented.orgID, as: presented.actor))
            // The database checks the key again with every statement: one revoked meanwhile fails there.
            return try await Self.mappingKeyErrors { try await next(request, context) }
        case .withFirstStatement:
            return try await store.withAPIKey(key) { org in
                guard case .apiKey(let keyID, _) = org.scope.actor else { throw TenantError.invalidAPIKey }
                context.tenant.principal = .apiKey(id: keyID, orgID: org.id)
                context.tenant.activeOrg = org
                return try await next(request, context)
            }
        }
    }

    /// A statement that met a key which stopped verifying (SQLSTATE TK007) is an invalid key, a 401.
    private static func mappingKeyErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresError where error.code == SQLState("TK007") {
            throw TenantError.invalidAPIKey
        }
    }

    /// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110), or nil.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        return token
    }
}

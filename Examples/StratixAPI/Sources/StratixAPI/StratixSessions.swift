import Foundation
import Hummingbird
import Synchronization
import TenantKit
import TenantKitHummingbird

/// The integration's `TenantSessionResolver` on TenantKit's persistent sessions: a session cookie
/// holds the token of `store.openSession(for:)`, and every request restores the session with
/// `store.session(token:)` (one round trip), on whichever instance it lands.
///
/// Unknown, closed and expired tokens resolve to nil, which the middleware answers with a 401.
/// The restored `OrgSession` registers with its store, so an instance running
/// `store.followSessionChanges(listening:)` cancels and re-issues its reads when another instance
/// switches the session. `onResolve` hands that `OrgSession` on (``StratixAuthMiddleware`` puts
/// it into the request context); the resolver's answer alone carries only ids.
public struct StratixPersistentSessions: TenantSessionResolver {
    /// The store whose sessions table the tokens name.
    public let store: TenantStore
    /// Called with each session resolved, before the answer is returned.
    public let onResolve: @Sendable (OrgSession) -> Void

    /// - Parameters:
    ///   - store: the store whose sessions table the tokens name.
    ///   - onResolve: receives each restored `OrgSession`.
    public init(store: TenantStore, onResolve: @escaping @Sendable (OrgSession) -> Void = { _ in }) {
        self.store = store
        self.onResolve = onResolve
    }

    /// The user and active organization of the session `token` names, or nil when it is not valid.
    public func session(id token: String) async throws -> TenantResolvedSession? {
        let session: OrgSession
        do {
            session = try await store.session(token: token)
        } catch TenantError.invalidSession {
            return nil
        }
        guard case .user(let userID) = session.actor else { return nil }
        onResolve(session)
        return TenantResolvedSession(userID: userID, activeOrgID: await session.activeOrgID)
    }
}

/// The integration's `TenantAuthMiddleware` with ``StratixPersistentSessions``, and the restored
/// `OrgSession` put into ``StratixRequestContext/orgSession`` for the handler.
///
/// A resolver per request catches the session it restored: the integration's resolver answer
/// has no room for it (see the example's README, "What the integration could take").
public struct StratixAuthMiddleware: RouterMiddleware {
    /// The API's request context, which carries the live session.
    public typealias Context = StratixRequestContext

    /// The store requests act on.
    public let store: TenantStore
    /// The cookie holding the session token.
    public let sessionCookieName: String

    /// - Parameters:
    ///   - store: the store requests act on.
    ///   - sessionCookieName: the cookie holding the session token.
    public init(store: TenantStore, sessionCookieName: String) {
        self.store = store
        self.sessionCookieName = sessionCookieName
    }

    /// Authenticates (bearer API key first, then the session cookie) and calls `next` with the
    /// principal, the active organization and, for a cookie, the live session.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let resolved = ResolvedSession()
        let auth = TenantAuthMiddleware<Context>(
            store: store,
            sessions: StratixPersistentSessions(store: store) { session in resolved.value.withLock { $0 = session } },
            sessionCookieName: sessionCookieName)
        return try await auth.handle(request, context: context) { request, context in
            var context = context
            context.orgSession = resolved.value.withLock { $0 }
            return try await next(request, context)
        }
    }
}

/// The session one request's resolver restored (a class: an escaping closure cannot hold a `Mutex` itself).
private final class ResolvedSession: Sendable {
    let value = Mutex<OrgSession?>(nil)
}

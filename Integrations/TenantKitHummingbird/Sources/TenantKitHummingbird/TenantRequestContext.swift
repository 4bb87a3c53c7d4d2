import Foundation
import Hummingbird
import TenantKit

/// Who a request acts as, once ``TenantAuthMiddleware`` has resolved it.
public enum TenantPrincipal: Sendable, Equatable {
    /// A signed-in user, resolved from a session cookie.
    case user(UUID)
    /// An API key: it acts in its own organization only.
    case apiKey(id: UUID, orgID: UUID)
}

/// What ``TenantAuthMiddleware`` resolved for one request. Only the middleware sets it, so a handler
/// cannot end up with a principal that no credential proved.
public struct TenantRequestState: Sendable {
    /// The principal, or nil on a route that allows anonymous requests.
    public internal(set) var principal: TenantPrincipal?
    /// The repositories of the active organization, or nil when none is active (a user in no
    /// organization yet) or nobody is signed in.
    public internal(set) var activeOrg: ActiveOrg?
    /// The signed-in user's live session, when the session resolver has one
    /// (``TenantStoreSessions``); nil for API keys, anonymous requests and resolvers of ids only.
    public internal(set) var orgSession: OrgSession?

    /// The state of a request nothing has authenticated yet.
    public init() {}
}

/// A request context that carries TenantKit's ``TenantRequestState``. Adopt it in an application's
/// own context to add fields of its own; ``TenantRequestContext`` is the ready-made one.
public protocol TenantRequestContextProtocol: RequestContext {
    /// Set by ``TenantAuthMiddleware``.
    var tenant: TenantRequestState { get set }
}

extension TenantRequestContextProtocol {
    /// The resolved principal, or nil when the request is anonymous.
    public var principal: TenantPrincipal? { tenant.principal }

    /// The active organization's repositories, or nil.
    public var activeOrg: ActiveOrg? { tenant.activeOrg }

    /// The principal; throws ``TenantHTTPError/unauthenticated`` (401) when there is none.
    public func requirePrincipal() throws -> TenantPrincipal {
        guard let principal = tenant.principal else { throw TenantHTTPError.unauthenticated }
        return principal
    }

    /// The active organization's repositories. Throws ``TenantHTTPError/unauthenticated`` (401)
    /// when nobody is signed in and ``TenantKit/TenantError/noActiveOrganization`` (409) when the
    /// signed-in user has no active organization.
    public func requireActiveOrg() throws -> ActiveOrg {
        _ = try requirePrincipal()
        guard let org = tenant.activeOrg else { throw TenantError.noActiveOrganization }
        return org
    }

    /// The signed-in user's live session, to switch organizations through. Throws
    /// ``TenantKit/TenantError/pinnedToAPIKeyOrganization`` (403) for an API key, which acts in its
    /// own organization only, and ``TenantHTTPError/unauthenticated`` (401) otherwise without one.
    public func requireOrgSession() throws -> OrgSession {
        if case .apiKey = try requirePrincipal() { throw TenantError.pinnedToAPIKeyOrganization }
        guard let session = tenant.orgSession else { throw TenantHTTPError.unauthenticated }
        return session
    }

    /// Runs a read in the active organization. Through the live session when there is one, so a
    /// switch that lands meanwhile (on any instance following session changes) cancels it and
    /// runs it again in the new organization; in the key's or the resolved organization otherwise.
    /// The answer names the organization it was read in.
    public func read<T: Sendable>(_ body: @escaping @Sendable (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        if let session = tenant.orgSession { return try await session.read(body) }
        let org = try requireActiveOrg()
        return Scoped(orgID: org.id, value: try await body(org))
    }

    /// Runs a write in the active organization. Through the live session when there is one: a
    /// switch that lands meanwhile rolls it back and fails it with
    /// ``TenantKit/TenantError/orgSwitched`` (409), never replaying it in another organization.
    public func write<T: Sendable>(_ body: @escaping @Sendable (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        if let session = tenant.orgSession { return try await session.write(body) }
        let org = try requireActiveOrg()
        return Scoped(orgID: org.id, value: try await body(org))
    }
}

/// The request context of a TenantKit service: Hummingbird's core context plus the principal and
/// the active organization.
///
/// ```swift
/// let router = Router(context: TenantRequestContext.self)
/// router.get("/catalog") { _, context in
///     try await context.requireActiveOrg().catalog.page().items.map(\.name)
/// }
/// ```
public struct TenantRequestContext: TenantRequestContextProtocol {
    /// Hummingbird's per-request storage (logger, parameters, endpoint path).
    public var coreContext: CoreRequestContextStorage
    /// Set by ``TenantAuthMiddleware``; empty until it runs.
    public var tenant: TenantRequestState

    /// A context for a new request, with nobody authenticated yet.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.tenant = TenantRequestState()
    }
}

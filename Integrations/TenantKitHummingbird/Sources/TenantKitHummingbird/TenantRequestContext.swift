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

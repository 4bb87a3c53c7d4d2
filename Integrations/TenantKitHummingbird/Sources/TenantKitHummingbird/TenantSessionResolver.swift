import Foundation
import Synchronization
import TenantKit

/// What a session cookie stands for: the signed-in user, their active organization and, when the
/// resolver has one, the live `OrgSession` behind them.
public struct TenantResolvedSession: Sendable, Equatable {
    /// The user the request acts as.
    public var userID: UUID
    /// Nil while the user belongs to no organization.
    public var activeOrgID: UUID?
    /// The session itself (``TenantStoreSessions`` restores one per request): handlers switch
    /// organizations through it, and reads made through it are re-issued in the new organization
    /// when a switch lands meanwhile, on this instance or another. Nil for resolvers of ids only.
    public var orgSession: OrgSession?

    /// A session of `userID` with `activeOrgID` active (nil for none), and its live `OrgSession` if any.
    public init(userID: UUID, activeOrgID: UUID?, orgSession: OrgSession? = nil) {
        self.userID = userID
        self.activeOrgID = activeOrgID
        self.orgSession = orgSession
    }

    /// Same user, same active organization, and the very same live session (or none on both sides).
    public static func == (a: Self, b: Self) -> Bool {
        a.userID == b.userID && a.activeOrgID == b.activeOrgID && a.orgSession === b.orgSession
    }
}

/// Turns a session id (the value of the session cookie) into a user and an active organization.
///
/// The application supplies it: ``TenantStoreSessions`` for TenantKit's persistent sessions,
/// ``TenantInMemorySessions`` for tests and examples, or its own. A resolver is trusted
/// to authenticate: the user it returns is who the request acts as. The active organization needs
/// no such trust, since the database checks the user's membership with every statement.
public protocol TenantSessionResolver: Sendable {
    /// The session with this id, or nil when it is unknown or expired (the request gets a 401).
    func session(id: String) async throws -> TenantResolvedSession?
}

/// TenantKit's persistent sessions (``TenantKit/TenantStore/session(token:)``): the cookie holds
/// the token of ``TenantKit/TenantStore/openSession(for:activeOrgID:lifetime:)``. One round trip per
/// request; a session switched on another instance is seen by the next request on this one, and by
/// the reads in flight on this one when the instance follows session changes
/// (``TenantKit/TenantStore/followSessionChanges(listening:)``).
public struct TenantStoreSessions: TenantSessionResolver {
    public let store: TenantStore

    /// Sessions of `store`'s database.
    public init(store: TenantStore) { self.store = store }

    /// The session's user, active organization and live `OrgSession`; nil when the token is
    /// unknown, closed or expired.
    public func session(id token: String) async throws -> TenantResolvedSession? {
        do {
            let session = try await store.session(token: token)
            guard case .user(let userID) = session.actor else { return nil }
            return TenantResolvedSession(userID: userID, activeOrgID: await session.activeOrgID, orgSession: session)
        } catch TenantError.invalidSession {
            return nil
        }
    }
}

/// Sessions kept in this process's memory: for tests, examples and single-instance prototypes.
/// They are lost on restart and not shared between instances.
public final class TenantInMemorySessions: TenantSessionResolver {
    private let sessions = Mutex<[String: TenantResolvedSession]>([:])

    /// No sessions yet.
    public init() {}

    /// Starts a session and returns its id: 32 random bytes in hex, to put in the session cookie.
    public func create(userID: UUID, activeOrgID: UUID?) -> String {
        var generator = SystemRandomNumberGenerator()  // a CSPRNG on every platform Swift supports
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
        sessions.withLock { $0[id] = TenantResolvedSession(userID: userID, activeOrgID: activeOrgID) }
        return id
    }

    /// Makes `orgID` the session's active organization; false when the session is unknown.
    /// Checking that the user is a member is the caller's job (`OrgSession.switch(to:)` does it).
    @discardableResult
    public func switchOrganization(ofSession id: String, to orgID: UUID?) -> Bool {
        sessions.withLock { sessions in
            guard sessions[id] != nil else { return false }
            sessions[id]?.activeOrgID = orgID
            return true
        }
    }

    /// Ends a session (sign-out).
    public func remove(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// The session with this id, or nil once it was removed or never existed.
    public func session(id: String) async throws -> TenantResolvedSession? {
        sessions.withLock { $0[id] }
    }
}

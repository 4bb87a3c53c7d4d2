import Foundation
import Synchronization

/// What a session cookie stands for: the signed-in user and their active organization.
public struct TenantResolvedSession: Sendable, Equatable {
    /// The user the request acts as.
    public var userID: UUID
    /// Nil while the user belongs to no organization.
    public var activeOrgID: UUID?

    /// A session of `userID` with `activeOrgID` active (nil for none).
    public init(userID: UUID, activeOrgID: UUID?) {
        self.userID = userID
        self.activeOrgID = activeOrgID
    }
}

/// Turns a session id (the value of the session cookie) into a user and an active organization.
///
/// The application supplies it: ``TenantInMemorySessions`` for tests and examples, a persistent
/// store in production (TenantKit's `store.session(id:)` will plug in here). A resolver is trusted
/// to authenticate: the user it returns is who the request acts as. The active organization needs
/// no such trust, since the database checks the user's membership with every statement.
public protocol TenantSessionResolver: Sendable {
    /// The session with this id, or nil when it is unknown or expired (the request gets a 401).
    func session(id: String) async throws -> TenantResolvedSession?
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

import Foundation
import TenantKitPostgres
import Synchronization
import TenantSQL

/// A new persistent session and the token that names it. Give the token to the client (a
/// cookie); it is shown once: the database keeps only its SHA-256.
public struct OpenedSession: Sendable {
    public let token: String
    public let session: OrgSession
}

/// The database row behind a persistent ``OrgSession``.
struct PersistedSession: Sendable {
    let id: UUID
    let tokenHash: [UInt8]
    /// The row's version when this copy was made; later states carry higher ones.
    let openedVersion: Int64
    let expiresAt: Date

    /// What the session's notifications carry (Schema/0018's tenantkit.session_digest).
    var digest: String { String(SHA256.hex(Array(id.uuidString.lowercased().utf8)).prefix(32)) }
}

/// This process's live persistent sessions by digest, held weakly: a session nobody uses any
/// more is not kept alive for its notifications.
final class LiveSessions: Sendable {
    private final class Weak: Sendable {
        weak let session: OrgSession?
        init(_ session: OrgSession) { self.session = session }
    }

    private let sessions = Mutex<(byDigest: [String: [Weak]], adds: Int)>(([:], 0))

    func add(_ session: OrgSession) {
        guard let digest = session.persisted?.digest else { return }
        sessions.withLock { state in
            state.byDigest[digest, default: []].removeAll { $0.session == nil }
            state.byDigest[digest, default: []].append(Weak(session))
            // Now and then, drop the digests of sessions nobody holds any more.
            state.adds += 1
            if state.adds % 256 == 0 {
                state.byDigest = state.byDigest.compactMapValues { live in
                    let kept = live.filter { $0.session != nil }
                    return kept.isEmpty ? nil : kept
                }
            }
        }
    }

    func sessions(digest: String) -> [OrgSession] {
        sessions.withLock { state in
            let live = (state.byDigest[digest] ?? []).compactMap(\.session)
            state.byDigest[digest] = live.isEmpty ? nil : live.map(Weak.init)
            return live
        }
    }

    var all: [OrgSession] { sessions.withLock { $0.byDigest.values.flatMap { $0.compactMap(\.session) } } }
}

/// Sessions that outlive a request, a restart and an instance (Schema/0018).
///
/// ```swift
/// let opened = try await store.openSession(for: user.id)       // at sign-in; opened.token goes in a cookie
/// let session = try await store.session(token: cookie)        // on any instance, on any request
/// try await session.switch(to: otherOrg)                      // every instance follows
/// Task { try await store.followSessionChanges(listening: listenerConfiguration) }  // once per instance
/// ```
extension TenantStore {
    /// The channel a session switch or close is announced on.
    public static let sessionChannel = "tenantkit_sessions"

    /// Opens a persistent session for a signed-in user, active in `activeOrgID` (a membership) or
    /// in the user's first organization.
    public func openSession(for userID: UUID, activeOrgID: UUID? = nil, lifetime: Duration = .seconds(30 * 24 * 3600)) async throws -> OpenedSession {
        guard lifetime > .zero, lifetime <= .seconds(90 * 24 * 3600) else {
            throw TenantError.invalidInput("a session lasts more than 0 seconds and at most 90 days")
        }
        let memberships = try await organizations(of: userID)
        if let activeOrgID, !memberships.contains(where: { $0.orgID == activeOrgID }) {
            throw TenantError.notAMember(orgID: activeOrgID)
        }
        let orgID = activeOrgID ?? memberships.first?.orgID
        let token = Secret.generate(prefix: "tks")
        let hash = SHA256.digest(Array(token.utf8))
        let expiresAt = Int64(Date().timeIntervalSince1970) + lifetime.components.seconds
        // The database opens a session only with this proof: SQL as the application role cannot sign one.
        let proof = context.key.proof(purpose: "session", subject: "\(userID.uuidString.lowercased()):\(hexString(hash)):\(expiresAt)")
        let open: PostgresQuery = "SELECT tenantkit_session_open(\(Data(hash)), \(expiresAt), \(proof))"
        // The claim names the user, and the org when there is one: the row takes both from it.
        let rows: PostgresRows
        if let orgID {
            rows = try await scope(orgID, as: .user(userID)).query(open)
        } else {
            rows = try await preTenant(.user(userID), [open])[0]
        }
        let id = try rows.decode(as: UUID.self)[0]
        let session = OrgSession(store: self, actor: .user(userID), activeOrgID: orgID, pinned: false,
                                 persisted: PersistedSession(id: id, tokenHash: hash, openedVersion: 1,
                                                             expiresAt: Date(timeIntervalSince1970: Double(expiresAt))))
        liveSessions.add(session)
        return OpenedSession(token: token, session: session)
    }

    /// The persistent session a client's token names, on any instance. Unknown, closed and expired
    /// sessions fail alike, with ``TenantError/invalidSession``; the active org is dropped when the
    /// user is no longer a member of it.
    public func session(token: String) async throws -> OrgSession {
        guard Secret.isWellFormed(token, prefix: "tks") else { throw TenantError.invalidSession }
        let hash = SHA256.digest(Array(token.utf8))
        guard let row = try await resumedSession(tokenHash: hash) else { throw TenantError.invalidSession }
        let session = OrgSession(store: self, actor: .user(row.userID), activeOrgID: row.activeOrgID, pinned: false,
                                 persisted: PersistedSession(id: row.id, tokenHash: hash, openedVersion: row.version, expiresAt: row.expiresAt))
        liveSessions.add(session)
        return session
    }

    /// Closes a persistent session (sign-out) everywhere: every instance's copy fails from then on.
    public func closeSession(_ session: OrgSession) async throws {
        guard let persisted = session.persisted, case .user(let userID) = session.actor else {
            throw TenantError.invalidInput("only a persistent user session can be closed")
        }
        _ = try await preTenant(.user(userID), ["SELECT tenantkit_session_close(\(persisted.id))"])
        await session.close()
    }

    /// Deletes expired sessions; returns how many. Run it now and then (any instance).
    @discardableResult
    public func sweepExpiredSessions() async throws -> Int {
        Int(try await pool.fetchOne("SELECT tenantkit_sweep_sessions()", as: Int64.self))
    }

    /// Follows switches and sign-outs made on other instances until cancelled: each live session
    /// of this process that changed re-reads its row, and a switched one cancels its in-flight
    /// statements on the server and re-issues its reads against the new organization. Listens
    /// on its own connection (`configuration`, the application role's). After a reconnect every
    /// live session re-reads its row, since notifications sent meanwhile are lost.
    public func followSessionChanges(listening configuration: PostgresConfiguration) async throws {
        // Only digests (32 lowercase hex digits) are ours: anything else on the channel is dropped unread.
        let listener = PostgresListener(configuration: configuration, channels: [Self.sessionChannel],
                                        accepting: { $0.utf8.count == 32 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } })
        defer { listener.stop() }
        try await withTaskCancellationHandler {
            for await event in listener.events {
                try Task.checkCancellation()
                switch event {
                case .connected:
                    for session in liveSessions.all { await session.refresh() }
                case .notification(_, let digest):
                    for session in liveSessions.sessions(digest: digest) { await session.refresh() }
                }
            }
        } onCancel: {
            listener.stop()
        }
    }

    /// A session row: its user and (still a member's) active org, or nil when unknown or expired.
    func resumedSession(tokenHash: [UInt8]) async throws -> ResumedSession? {
        try await pool.fetchOptional(
            "SELECT id, user_id, active_org_id, version, expires_at FROM tenantkit_session_resume(\(Data(tokenHash)))", as: ResumedSession.self)
    }

    struct ResumedSession: Decodable, Sendable {
        let id: UUID
        let userID: UUID
        let activeOrgID: UUID?
        let version: Int64
        let expiresAt: Date
    }
}

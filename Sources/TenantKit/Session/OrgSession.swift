import Foundation
import Postgres
import TenantSQL

/// One user's (or one API key's) working session: exactly one active organization at a time.
///
/// Reads and writes run against the active organization through ``read(_:)`` and ``write(_:)``.
/// ``switch(to:)`` checks membership, then cancels the session's in-flight work on the server
/// (a real `PQcancel`): in-flight reads are re-issued against the new organization, and their
/// results say which organization they belong to; in-flight writes are rolled back and fail with
/// ``TenantError/orgSwitched(from:to:)``, never replayed against an organization their caller did
/// not choose.
///
/// ```swift
/// let session = try await store.session(for: userID)
/// let items = try await session.read { org in try await org.catalog.page(kind: "model") }
/// try await session.switch(to: otherOrgID)
/// let balance = try await session.read { org in try await org.credits.balance() }  // the other org's
/// ```
public actor OrgSession {
    public nonisolated let store: TenantStore
    public nonisolated let actor: OrgScope.Actor
    /// True for a session made from an API key: it stays in the key's organization.
    public nonisolated let isPinned: Bool
    public private(set) var activeOrgID: UUID?

    private var inFlight: [Int: @Sendable () -> Void] = [:]
    private var nextID = 0

    init(store: TenantStore, actor: OrgScope.Actor, activeOrgID: UUID?, pinned: Bool) {
        self.store = store
        self.actor = actor
        self.activeOrgID = activeOrgID
        self.isPinned = pinned
    }

    /// The organizations for the switcher (a key's session lists only the key's organization).
    public func organizations() async throws -> [Membership] {
        switch actor {
        case .user(let id):
            return try await store.organizations(of: id)
        case .apiKey, .platformOperator:
            let org = try await read { org in try await org.organization.get() }.value
            return [Membership(orgID: org.id, name: org.name, role: .member, joinedAt: org.createdAt)]
        }
    }

    /// Makes `orgID` the active organization; see the type's documentation for in-flight work.
    public func `switch`(to orgID: UUID) async throws {
        guard !isPinned else { throw TenantError.pinnedToAPIKeyOrganization }
        guard case .user(let userID) = actor else { throw TenantError.pinnedToAPIKeyOrganization }
        // One indexed read in the target org's scope: only the user's own membership row can match.
        let m = MembershipsTable.table
        let membership = try await store.scope(orgID, as: actor)
            .fetchOptional(Select.from(m).columns(m.role).where(m.userID == userID), as: Role.self)
        guard membership != nil else { throw TenantError.notAMember(orgID: orgID) }
        guard activeOrgID != orgID else { return }
        activeOrgID = orgID
        for cancel in inFlight.values { cancel() }
    }

    /// Creates an organization with the session's user as its admin, and makes it active.
    @discardableResult
    public func createOrganization(named name: String) async throws -> UUID {
        guard case .user(let userID) = actor, !isPinned else {
            throw TenantError.invalidInput("an API key cannot create organizations")
        }
        let orgID = try await store.createOrganization(named: name, by: userID)
        try await self.switch(to: orgID)
        return orgID
    }

    /// Runs a read against the active organization. If the organization is switched while it runs,
    /// it is cancelled and run again against the new one; the result carries the organization it
    /// was read from.
    public func read<T: Sendable>(_ body: @escaping @Sendable (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        while true {
            let orgID = try requireActive()
            do {
                let value = try await tracked { try await self.mappingKeyErrors { try await body(self.repositories(in: orgID)) } }
                if activeOrgID == orgID { return Scoped(orgID: orgID, value: value) }
            } catch {
                if Task.isCancelled || activeOrgID == orgID { throw error }
            }
            // Switched meanwhile: the result (or the cancellation) belongs to the old organization.
        }
    }

    /// Runs a write against the active organization, in the transactions its repository calls make.
    /// If the organization is switched while it runs, it is cancelled and rolled back, and fails
    /// with ``TenantError/orgSwitched(from:to:)``; it is not replayed.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        let orgID = try requireActive()
        do {
            let value = try await tracked { try await self.mappingKeyErrors { try await body(self.repositories(in: orgID)) } }
            return Scoped(orgID: orgID, value: value)
        } catch {
            if !Task.isCancelled, let now = activeOrgID, now != orgID {
                throw TenantError.orgSwitched(from: orgID, to: now)
            }
            throw error
        }
    }

    /// The repositories of `orgID` for this session's actor. A key's every statement checks the
    /// key in the database (a key revoked after the session was made stops working at once).
    private nonisolated func repositories(in orgID: UUID) -> ActiveOrg {
        ActiveOrg(scope: store.scope(orgID, as: actor))
    }

    /// A key that stopped verifying surfaces as ``TenantError/invalidAPIKey``, whichever statement met it.
    private nonisolated func mappingKeyErrors<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as PostgresError where error.code == SQLState("TK007") {
            throw TenantError.invalidAPIKey
        }
    }

    private func requireActive() throws -> UUID {
        guard let activeOrgID else { throw TenantError.noActiveOrganization }
        return activeOrgID
    }

    /// Runs `work` as a task the session can cancel on a switch; cancelling the caller cancels it too.
    /// The task runs on one of the pool's event loops (in turn) and leases idle connections of that
    /// loop first, whose round trips are then sent, awaited and resumed on one thread.
    private func tracked<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task(executorPreference: store.pool.eventLoopGroup.next()) { try await work() }
        nextID += 1
        let id = nextID
        inFlight[id] = { task.cancel() }
        defer { inFlight[id] = nil }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }
}

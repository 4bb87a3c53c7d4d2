import Foundation
import TenantKitPostgres
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
    /// The database row of a persistent session (``TenantStore/openSession(for:activeOrgID:lifetime:)``), nil otherwise.
    nonisolated let persisted: PersistedSession?
    /// Set once a persistent session was closed or expired: every call then fails with ``TenantError/invalidSession``.
    private var isClosed = false
    /// The version of the persistent row this copy reflects: only newer states are applied.
    private var persistedVersion: Int64 = 0
    /// Set when re-reading the row failed: the next call reads it before doing anything.
    private var needsRecheck = false

    private var inFlight: [Int: @Sendable () -> Void] = [:]
    private var nextID = 0

    init(store: TenantStore, actor: OrgScope.Actor, activeOrgID: UUID?, pinned: Bool, persisted: PersistedSession? = nil) {
        self.store = store
        self.actor = actor
        self.activeOrgID = activeOrgID
        self.isPinned = pinned
        self.persisted = persisted
        self.persistedVersion = persisted?.openedVersion ?? 0
    }

    /// The persistent session's id, nil for a session of this process only.
    public nonisolated var sessionID: UUID? { persisted?.id }

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
        guard let persisted else {
            apply(orgID)
            return
        }
        if isClosed { throw TenantError.invalidSession }
        // The row first, verified as the user in the new org; it tells every other instance. Its
        // version orders this switch among concurrent ones and against refreshes.
        let version: Int64
        do {
            version = try await store.scope(orgID, as: actor).query("SELECT tenantkit_session_switch(\(persisted.id))")
                .decode(as: Int64.self)[0]
        } catch let error as PostgresError where error.code == SQLState("TK008") {
            close()
            throw TenantError.invalidSession
        }
        apply(orgID, version: version)
    }

    /// Applies a persistent row's state when it is newer than what this copy reflects.
    private func apply(_ orgID: UUID?, version: Int64) {
        guard version > persistedVersion else { return }
        persistedVersion = version
        apply(orgID)
    }

    /// Makes `orgID` active here: in-flight reads are re-issued against it, writes fail.
    private func apply(_ orgID: UUID?) {
        guard activeOrgID != orgID else { return }
        activeOrgID = orgID
        for cancel in inFlight.values { cancel() }
    }

    /// Ends the session here: in-flight work is cancelled and every later call fails.
    func close() {
        isClosed = true
        apply(nil)
    }

    /// Re-reads a persistent session's row after another instance changed it.
    func refresh() async {
        guard let persisted, !isClosed else { return }
        do {
            if let row = try await store.resumedSession(tokenHash: persisted.tokenHash) {
                needsRecheck = false
                apply(row.activeOrgID, version: row.version)
            } else {
                close()
            }
        } catch {
            // Not reachable now: the next call re-reads the row before it does anything.
            needsRecheck = true
        }
    }

    /// A persistent session re-reads its row first when a refresh failed, and ends at its expiry.
    private func checkPersisted() async throws {
        guard let persisted else { return }
        if !isClosed, persisted.expiresAt <= Date() { close() }
        if needsRecheck {
            guard let row = try await store.resumedSession(tokenHash: persisted.tokenHash) else {
                close()
                throw TenantError.invalidSession
            }
            needsRecheck = false
            apply(row.activeOrgID, version: row.version)
        }
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
        try await checkPersisted()
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
        try await checkPersisted()
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
        if isClosed { throw TenantError.invalidSession }
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

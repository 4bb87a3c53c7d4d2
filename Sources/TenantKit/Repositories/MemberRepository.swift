import Foundation
import TenantKitPostgres
import TenantSQL

/// Members and roles. Admins manage members; anyone may leave. The last admin cannot leave, be
/// demoted or be removed: admin rows are locked first, so two admins demoting each other at once
/// cannot both succeed.
public struct MemberRepository: Sendable {
    let scope: OrgScope

    /// Everyone in the organization, by email.
    public func list() async throws -> [Member] {
        let m = MembershipsTable.table, u = UsersTable.table
        return try await scope.fetchAll(
            Select.from(m)
                .columns(Self.columns(m, u))
                .join(u, on: u.id == m.userID)
                .orderBy(u.email.asc),
            as: Member.self)
    }

    /// Members by email, `limit` at a time.
    public func page(after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<Member> {
        let limit = try checkedPageLimit(limit, "members")
        let after = try cursor.map { try $0.textAndID(of: "members") }
        let m = MembershipsTable.table, u = UsersTable.table
        let members = try await scope.fetchAll(
            Select.from(m)
                .columns(Self.columns(m, u))
                .join(u, on: u.id == m.userID)
                .keysetPage(by: u.email, m.userID, after: after, limit: limit),
            as: Member.self)
        let next = members.count == limit ? members.last.map { PageCursor(listing: "members", after: $0.email, $0.userID) } : nil
        return Page(items: members, next: next)
    }

    /// The actor's own role here.
    public func myRole() async throws -> Role {
        try await scope.transaction { tx in try await tx.actorRole() }
    }

    /// Changes a member's role (admins only).
    public func changeRole(of userID: UUID, to role: Role) async throws {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "changing roles")
            let current = try await tx.lockMemberships(keepingAdminsBesides: role == .admin ? nil : userID, for: userID)
            let m = MembershipsTable.table
            try await tx.execute(Update.table(m).set(m.role.set(role.rawValue)).where(m.userID == userID))
            try await tx.audit("member.role_changed", target: userID.uuidString.lowercased(),
                               details: ["from": current.rawValue, "to": role.rawValue])
        }
    }

    /// Removes a member (admins only).
    public func remove(_ userID: UUID) async throws {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "removing members")
            _ = try await tx.lockMemberships(keepingAdminsBesides: userID, for: userID)
            let m = MembershipsTable.table
            try await tx.execute(Delete.from(m).where(m.userID == userID))
            try await tx.audit("member.removed", target: userID.uuidString.lowercased())
        }
    }

    /// The acting user leaves the organization.
    public func leave() async throws {
        guard case .user(let userID) = scope.actor else {
            throw TenantError.invalidInput("an API key is not a member and cannot leave")
        }
        try await scope.transaction { tx in
            _ = try await tx.lockMemberships(keepingAdminsBesides: userID, for: userID)
            let m = MembershipsTable.table
            try await tx.execute(Delete.from(m).where(m.userID == userID))
            try await tx.audit("member.left", target: userID.uuidString.lowercased())
        }
    }

    /// What ``Member`` is read from: a membership joined with its user.
    static func columns(_ m: MembershipsTable, _ u: UsersTable) -> [any Selectable] {
        [m.userID.as("user_id"), u.email, u.displayName, m.role, m.createdAt.as("joined_at")]
    }
}

extension ScopedTransaction {
    /// Locks the organization's admin rows and `userID`'s row; returns `userID`'s role. When
    /// `excluded` is given, throws ``TenantError/lastAdmin`` unless another admin remains without it.
    func lockMemberships(keepingAdminsBesides excluded: UUID?, for userID: UUID) async throws -> Role {
        let m = MembershipsTable.table
        struct Row: Decodable { let userID: UUID; let role: Role }
        let rows = try await fetchAll(
            Select.from(m).columns(m.userID, m.role)
                .where(m.role == Role.admin.rawValue || m.userID == userID)
                .orderBy(m.userID.asc)
                .locking(.forUpdate),
            as: Row.self)
        guard let target = rows.first(where: { $0.userID == userID }) else {
            throw TenantError.notFound("member \(userID)")
        }
        if let excluded, target.role == .admin, !rows.contains(where: { $0.role == .admin && $0.userID != excluded }) {
            throw TenantError.lastAdmin
        }
        return target.role
    }
}

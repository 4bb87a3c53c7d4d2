import Foundation
import TenantKitPostgres
import TenantSQL

/// Email invitations (admins only). A token is single-use, expires (7 days by default), can be
/// revoked, and is accepted only by a user whose email matches, case-insensitively.
public struct InvitationRepository: Sendable {
    let scope: OrgScope

    public func invite(email: String, role: Role, validFor lifetime: Duration = .seconds(7 * 24 * 3600)) async throws -> IssuedInvitation {
        let email = try validatedEmail(email)
        let seconds = Double(lifetime.components.seconds)
        guard seconds > 0 else { throw TenantError.invalidInput("an invitation must be valid for a positive time") }
        let token = Secret.generate(prefix: "tki")
        let invitedBy: UUID? = if case .user(let id) = scope.actor { id } else { nil }
        let invitation = try await scope.transaction { tx in
            try await tx.require(.admin, to: "inviting people")
            let i = InvitationsTable.table
            let created = try await tx.fetchOne(
                Insert.into(i).values(
                    i.email.set(email), i.role.set(role.rawValue), i.tokenHash.set(Secret.hash(token)),
                    i.invitedBy.set(invitedBy), i.expiresAt.set(Date().addingTimeInterval(seconds)))
                .returning(Self.columns(i)),
                as: Invitation.self)
            try await tx.audit("invitation.created", target: created.id.uuidString.lowercased(),
                               details: ["email": email, "role": role.rawValue])
            return created
        }
        return IssuedInvitation(invitation: invitation, token: token)
    }

    /// Invitations not yet accepted or revoked, newest first (admins only).
    public func pending() async throws -> [Invitation] {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "listing invitations")
            let i = InvitationsTable.table
            return try await tx.fetchAll(
                Select.from(i).columns(Self.columns(i))
                    .where(i.acceptedAt.isNull && i.revokedAt.isNull)
                    .orderBy(i.createdAt.desc),
                as: Invitation.self)
        }
    }

    /// Pending invitations, newest first, `limit` at a time (admins only).
    public func page(after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<Invitation> {
        let limit = try checkedPageLimit(limit, "invitations")
        let after = try cursor.map { try $0.dateAndID(of: "invitations") }
        let invitations = try await scope.transaction { tx in
            try await tx.require(.admin, to: "listing invitations")
            let i = InvitationsTable.table
            return try await tx.fetchAll(
                Select.from(i).columns(Self.columns(i))
                    .where(i.acceptedAt.isNull && i.revokedAt.isNull)
                    .keysetPage(by: i.createdAt, i.id, after: after, descending: true, limit: limit),
                as: Invitation.self)
        }
        let next = invitations.count == limit
            ? invitations.last.map { PageCursor(listing: "invitations", after: $0.createdAt, $0.id) } : nil
        return Page(items: invitations, next: next)
    }

    /// Revokes a pending invitation (admins only).
    public func revoke(_ id: UUID) async throws {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "revoking invitations")
            let i = InvitationsTable.table
            let changed = try await tx.execute(
                Update.table(i).set(i.revokedAt.set(now(as: Date?.self)))
                    .where(i.id == id && i.acceptedAt.isNull && i.revokedAt.isNull))
            guard changed == 1 else { throw TenantError.notFound("pending invitation \(id)") }
            try await tx.audit("invitation.revoked", target: id.uuidString.lowercased())
        }
    }

    /// What ``Invitation`` is read from: never the token's hash.
    static func columns(_ i: InvitationsTable) -> [any Selectable] { i.columns(excluding: i.orgID, i.tokenHash, i.acceptedBy) }
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// The active organization itself: read, rename, settings, delete.
///
/// Deleting an organization is a tombstone, not a cascade: its members, invitations and email
/// domains are removed, its API keys revoked and its private catalog items deleted (those that
/// runs refer to stay, with the runs), so nobody can act in it again; its runs, ECU ledger and
/// audit log stay, because the audit log is append-only for every role and the ledger is the
/// record behind it.
public struct OrganizationRepository: Sendable {
    let scope: OrgScope
    private var table: OrganizationsTable { .table }

    public func get() async throws -> Organization {
        let o = table
        guard let org = try await scope.fetchOptional(Select.from(o).columns(o.columns(excluding: o.settings(as: JSONObject.self))), as: Organization.self) else {
            throw TenantError.notFound("organization")
        }
        return org
    }

    /// Renames the organization (admins only).
    public func rename(to name: String) async throws {
        let name = try validatedName(name, "an organization name")
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "renaming the organization")
            let o = OrganizationsTable.table
            try await tx.execute(Update.table(o).set(o.name.set(name)))
            try await tx.audit("organization.renamed", details: ["name": name])
        }
    }

    /// The settings object, decoded as `T` (an empty object when never set).
    public func settings<T: Codable & Sendable>(as type: T.Type) async throws -> T {
        let o = table
        let rows = try await scope.query(Select.from(o).columns(o.settings(as: T.self)))
        guard let row = rows.first else { throw TenantError.notFound("organization") }
        return try row.decode(JSONB<T>.self, at: 0).value
    }

    /// Replaces the settings object (admins only).
    public func updateSettings<T: Codable & Sendable>(_ settings: T) async throws {
        try requireBoundedJSON(settings, "settings")
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "changing settings")
            let o = OrganizationsTable.table
            try await tx.execute(Update.table(o).set(o.settings(as: T.self).set(JSONB(settings))))
            try await tx.audit("organization.settings_changed")
        }
    }

    /// Deletes the organization (admins only); see the type's documentation for what is kept.
    public func delete() async throws {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "deleting the organization")
            try await tx.audit("organization.deleted")
            let keys = APIKeysTable.table, invites = InvitationsTable.table
            let items = CatalogItemsTable.table, domains = OrgEmailDomainsTable.table, members = MembershipsTable.table
            let runs = RunsTable.table
            _ = try await tx.pipeline([
                Update.table(keys).set(keys.revokedAt.set(now(as: Date?.self))).where(keys.revokedAt.isNull),
                Update.table(invites).set(invites.revokedAt.set(now(as: Date?.self)))
                    .where(invites.revokedAt.isNull && invites.acceptedAt.isNull),
                Delete.from(domains),
                Delete.from(items).where(notExists(Select.from(runs).where(runs.privateCatalogItemID == items.id))),
                Delete.from(members),
            ] as [any Statement])
        }
    }
}

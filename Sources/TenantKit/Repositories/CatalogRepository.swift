import Foundation
import TenantKitPostgres
import TenantSQL

/// The catalog the active organization sees: the public catalog plus its private items. Members
/// create, update and delete private items; public items are read-only here (curating them is a
/// platform operator's job, through `UnscopedAccess`).
public struct CatalogRepository: Sendable {
    let scope: OrgScope

    /// Items by name then id, `limit` at a time, optionally of one `kind` and whose name contains `search`.
    public func page(kind: String? = nil, search: String? = nil, after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<CatalogItem> {
        let limit = try checkedPageLimit(limit, "items")
        let after = try cursor.map { try $0.textAndID(of: Self.listing) }
        let items = try await scope.fetchAll(Self.pageQuery(kind: kind, search: search, after: after, limit: limit), as: CatalogItem.self)
        let next = items.count == limit ? items.last.map { PageCursor(listing: Self.listing, after: $0.name, $0.id) } : nil
        return Page(items: items, next: next)
    }

    static let listing = "catalog"

    /// The statement of ``page(kind:search:after:limit:)``.
    static func pageQuery(kind: String?, search: String?, after cursor: (name: String, id: UUID)?, limit: Int) -> Select {
        let c = CatalogItemsTable.table
        var select = Select.from(c).columns(Self.columns(c))
        if let kind { select = select.where(c.kind == kind) }
        if let search, !search.isEmpty { select = select.where(c.name.ilike("%" + likeEscaped(search) + "%")) }
        return select.keysetPage(by: c.name, c.id, after: cursor.map { ($0.name, $0.id) }, limit: limit)
    }

    /// An item visible to the organization (public or its own), by id.
    public func item(_ id: UUID) async throws -> CatalogItem {
        let c = CatalogItemsTable.table
        guard let item = try await scope.fetchOptional(Select.from(c).columns(Self.columns(c)).where(c.id == id), as: CatalogItem.self) else {
            throw TenantError.notFound("catalog item \(id)")
        }
        return item
    }

    /// Creates a private item (members and admins). The slug is unique within the organization.
    public func create(kind: String, slug: String, name: String, metadata: [String: String] = [:]) async throws -> CatalogItem {
        let name = try validatedName(name, "an item name")
        try validateCatalogKey(kind: kind, slug: slug)
        try requireBoundedJSON(metadata, "metadata")
        return try await scope.transaction { tx in
            try await tx.require(.member, to: "adding catalog items")
            let c = CatalogItemsTable.table
            let item = try await mappingDuplicate("catalog_items_org_slug_key", as: "slug \(slug)") {
                try await tx.fetchOne(
                    Insert.into(c).values(c.kind.set(kind), c.slug.set(slug), c.name.set(name), c.metadata(as: [String: String].self).set(JSONB(metadata)))
                        .returning(Self.columns(c)),
                    as: CatalogItem.self)
            }
            try await tx.audit("catalog.item_created", target: item.id.uuidString.lowercased(), details: ["slug": slug])
            return item
        }
    }

    /// Renames a private item or replaces its metadata (members and admins).
    public func update(_ id: UUID, name: String? = nil, metadata: [String: String]? = nil) async throws -> CatalogItem {
        let name = try name.map { try validatedName($0, "an item name") }
        if let metadata { try requireBoundedJSON(metadata, "metadata") }
        return try await scope.transaction { tx in
            try await tx.require(.member, to: "changing catalog items")
            let c = CatalogItemsTable.table
            var assignments = [c.updatedAt.set(now())]
            if let name { assignments.append(c.name.set(name)) }
            if let metadata { assignments.append(c.metadata(as: [String: String].self).set(JSONB(metadata))) }
            let update = Update.table(c).set(assignments).where(c.id == id)
            guard let item = try await tx.fetchOptional(update.returning(Self.columns(c)), as: CatalogItem.self) else {
                throw TenantError.notFound("private catalog item \(id)")
            }
            try await tx.audit("catalog.item_updated", target: id.uuidString.lowercased())
            return item
        }
    }

    /// Deletes a private item (members and admins). Items that runs refer to cannot be deleted.
    public func delete(_ id: UUID) async throws {
        try await scope.transaction { tx in
            try await tx.require(.member, to: "deleting catalog items")
            let c = CatalogItemsTable.table
            let deleted: Int
            do {
                deleted = try await tx.execute(Delete.from(c).where(c.id == id))
            } catch let error as PostgresError where error.code == .foreignKeyViolation {
                throw TenantError.invalidInput("catalog item \(id) has runs and cannot be deleted")
            }
            guard deleted == 1 else { throw TenantError.notFound("private catalog item \(id)") }
            try await tx.audit("catalog.item_deleted", target: id.uuidString.lowercased())
        }
    }

    /// What ``CatalogItem`` is read from: every column.
    static func columns(_ c: CatalogItemsTable) -> [any Selectable] { c.columns }
}

/// Escapes LIKE's wildcards so a search term matches literally.
func likeEscaped(_ text: String) -> String {
    var escaped = ""
    for character in text {
        if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
        escaped.append(character)
    }
    return escaped
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// `catalog_items`, each organization's private items, read together with `public_catalog_items`,
/// the public catalog (the same columns but `org_id`). Scoped reads see both, the public items with
/// `org_id` NULL; scoped writes only the organization's own items. The two are two tables so that
/// on Citus the public catalog is a reference table and the private items are distributed by org.
public struct CatalogItemsTable: DeclaredTable {
    public static let tableName = "catalog_items"
    public static let scoping = TableScoping.mixedCatalog(publicRowsIn: "public_catalog_items")
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var id: Column<UUID> { column("id") }
    /// NULL for public items.
    public var orgID: OrgColumn<UUID?> { orgColumn() }
    public var kind: Column<String> { column("kind") }
    public var slug: Column<String> { column("slug") }
    public var name: Column<String> { column("name") }
    /// The metadata object, decoded as `T`.
    public func metadata<T: Codable & Sendable>(as type: T.Type) -> Column<JSONB<T>> { column("metadata") }
    public var createdAt: Column<Date> { column("created_at") }
    public var updatedAt: Column<Date> { column("updated_at") }

    public var columns: [any DeclaredColumn] { [id, orgID, kind, slug, name, metadata(as: JSONObject.self), createdAt, updatedAt] }
}

/// `public_catalog_items`, the public catalog: every organization reads it (through
/// ``CatalogItemsTable``, where its rows have `org_id` NULL); only its owner writes it, so this
/// declaration serves the platform's curation (``UnscopedAccess`` or a seed migration).
public struct PublicCatalogItemsTable: DeclaredTable {
    public static let tableName = "public_catalog_items"
    public static let scoping = TableScoping.global
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var id: Column<UUID> { column("id") }
    public var kind: Column<String> { column("kind") }
    public var slug: Column<String> { column("slug") }
    public var name: Column<String> { column("name") }
    /// The metadata object, decoded as `T`.
    public func metadata<T: Codable & Sendable>(as type: T.Type) -> Column<JSONB<T>> { column("metadata") }
    public var createdAt: Column<Date> { column("created_at") }
    public var updatedAt: Column<Date> { column("updated_at") }

    public var columns: [any DeclaredColumn] { [id, kind, slug, name, metadata(as: JSONObject.self), createdAt, updatedAt] }
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// `catalog_items`: the public catalog (`org_id IS NULL`) plus each organization's private items.
/// Scoped reads see both; scoped writes only the organization's own items.
public struct CatalogItemsTable: DeclaredTable {
    public static let tableName = "catalog_items"
    public static let scoping = TableScoping.mixedCatalog
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

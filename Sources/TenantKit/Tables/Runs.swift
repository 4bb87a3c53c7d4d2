import Foundation
import TenantKitPostgres
import TenantSQL

/// `runs`: executions of a catalog item, billed to the organization. `user_id` / `api_key_id`
/// default to the scope's actor.
public struct RunsTable: DeclaredTable {
    public static let tableName = "runs"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var id: Column<UUID> { column("id") }
    /// The item run, public or the organization's own. A trigger copies it into one of the two
    /// columns below, each a foreign key, so a run of another organization's item cannot be written.
    public var catalogItemID: Column<UUID> { column("catalog_item_id") }
    /// Set (by the trigger) for an item of the public catalog: a key to `public_catalog_items`.
    public var publicCatalogItemID: Column<UUID?> { column("public_catalog_item_id") }
    /// Set (by the trigger) for one of the organization's own items: a key to `catalog_items (org_id, id)`.
    public var privateCatalogItemID: Column<UUID?> { column("private_catalog_item_id") }
    public var userID: Column<UUID?> { column("user_id") }
    public var apiKeyID: Column<UUID?> { column("api_key_id") }
    public var cost: Column<Int64> { column("cost") }
    /// `queued`, `running`, `succeeded` or `failed`.
    public var status: Column<String> { column("status") }
    public var error: Column<String?> { column("error") }
    public var createdAt: Column<Date> { column("created_at") }
    public var startedAt: Column<Date?> { column("started_at") }
    public var finishedAt: Column<Date?> { column("finished_at") }

    public var columns: [any DeclaredColumn] { [
        orgID, id, catalogItemID, userID, apiKeyID, cost, status, error, createdAt, startedAt, finishedAt,
        publicCatalogItemID, privateCatalogItemID,
    ] }
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// `api_keys`: per-organization keys; only the key's sha256 and a visible prefix are stored.
/// Keys are revoked (`revoked_at`), never deleted.
public struct APIKeysTable: DeclaredTable {
    public static let tableName = "api_keys"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var id: Column<UUID> { column("id") }
    public var name: Column<String> { column("name") }
    public var prefix: Column<String> { column("prefix") }
    public var keyHash: Column<Data> { column("key_hash") }
    public var createdBy: Column<UUID?> { column("created_by") }
    public var createdAt: Column<Date> { column("created_at") }
    public var lastUsedAt: Column<Date?> { column("last_used_at") }
    public var revokedAt: Column<Date?> { column("revoked_at") }

    public var columns: [any DeclaredColumn] { [orgID, id, name, prefix, keyHash, createdBy, createdAt, lastUsedAt, revokedAt] }
}

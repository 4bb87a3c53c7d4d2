import TenantSQL

/// TenantKit's table declarations, one per table the repositories name. A test compares each with
/// the migrated database (columns, types, nullability, tenant classification), so the Swift side
/// cannot drift from `Schema/`.
///
/// ```swift
/// for table in TenantKitTables.all { print(table.tableName, table.scoping, table.columnDeclarations) }
/// ```
public enum TenantKitTables {
    /// Every declaration, by table name.
    public static let all: [any DeclaredTable.Type] = [
        APIKeysTable.self, AuditLogTable.self, CatalogItemsTable.self, CreditAccountsTable.self, CreditLedgerTable.self,
        InvitationsTable.self, MembershipsTable.self, OrgEmailDomainsTable.self, OrganizationsTable.self,
        PublicCatalogItemsTable.self, RunsTable.self, UsersTable.self,
    ]
}

/// The type a `jsonb` column is listed with in ``DeclaredTable/columns``: any `Codable` names the
/// same column, and the list needs one.
typealias JSONObject = [String: String]

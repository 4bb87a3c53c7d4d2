import Foundation
import TenantKitPostgres

/// The tables of a database, found from the catalog, and which column names each one's organization.
///
/// Every table with an `org_id` column belongs to organizations by it; `public.organizations` by its
/// `id`. Any other table is global. System and temporary schemas are left out.
struct OrgTables: Sendable {
    struct Table: Sendable, Hashable {
        let schema: String
        let name: String
        /// The column holding the organization, or nil for a global table.
        let orgColumn: String?
        /// Column names and their types (`format_type`), in order.
        let columns: [Column]

        /// `schema.name`, for reports.
        var qualifiedName: String { "\(schema).\(name)" }
    }

    struct Column: Sendable, Hashable {
        let name: String
        let type: String
    }

    /// Tables whose organization column is not `org_id`.
    static let organizationColumns = ["public.organizations": "id"]

    let tables: [Table]

    /// The catalog's condition for a schema that is neither PostgreSQL's own nor a session's temp schema.
    static let userSchemaCondition = """
        n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname !~ '^pg_(toast_)?temp_'
        """

    static func discover(on admin: PostgresConnection) async throws -> OrgTables {
        struct Row: Decodable { let schema: String; let name: String; let column: String; let type: String }
        let rows = try await admin.fetchAll("""
            SELECT n.nspname::text AS schema, c.relname::text AS name, a.attname::text AS column,
                   format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND \(unsafeRaw: userSchemaCondition)
            ORDER BY 1, 2, a.attnum
            """, as: Row.self)
        var tables: [Table] = []
        var index: [String: Int] = [:]
        var columns: [[Column]] = []
        for row in rows {
            let key = "\(row.schema).\(row.name)"
            if index[key] == nil {
                index[key] = columns.count
                columns.append([])
                tables.append(Table(schema: row.schema, name: row.name, orgColumn: nil, columns: []))
            }
            columns[index[key]!].append(Column(name: row.column, type: row.type))
        }
        return OrgTables(tables: tables.enumerated().map { i, table in
            let names = Set(columns[i].map(\.name))
            let orgColumn = organizationColumns[table.qualifiedName] ?? (names.contains("org_id") ? "org_id" : nil)
            return Table(schema: table.schema, name: table.name, orgColumn: orgColumn, columns: columns[i])
        })
    }
}

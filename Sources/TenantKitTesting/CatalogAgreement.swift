import Foundation
import TenantKitPostgres
import TenantSQL

/// Compares Swift table declarations with a migrated database's catalog and names every
/// disagreement by table and column: a column on one side only, another type, another
/// nullability, or a tenant classification (``TableScoping``) the table does not have.
///
/// ```swift
/// @Test func declarationsAgreeWithTheSchema() async throws {
///     try await TestDatabase.with(template: .migrated) { db in
///         let connection = try await db.connect()
///         defer { Task { await connection.close() } }
///         let problems = try await CatalogAgreement.disagreements(
///             [ProjectsTable.self], undeclared: ["schema_migrations": "the runner's"], on: connection)
///         for problem in problems { Issue.record(Comment(rawValue: problem)) }
///     }
/// }
/// ```
public enum CatalogAgreement {
    /// Every disagreement between `tables` and the tables of the `public` schema on `connection`.
    ///
    /// A table of the schema that is neither declared nor named in `undeclared` (table name ->
    /// why it has no declaration) is a disagreement too, so a new table cannot go unnoticed; so is
    /// any table with an `org_id` column whose row-level security is not enabled and forced.
    public static func disagreements(
        _ tables: [any DeclaredTable.Type], undeclared: [String: String] = [:], on connection: PostgresConnection
    ) async throws -> [String] {
        let catalog = try await CatalogTable.all(on: connection)
        var problems = tables.flatMap { declared in
            guard let table = catalog[declared.tableName] else {
                return ["\(declared.tableName): declared by \(declared) but the database has no such table"]
            }
            return disagreements(declared, table) + publicTableDisagreements(declared, catalog)
        }
        let declaredNames = Set(tables.map { $0.tableName } + tables.compactMap { $0.scoping.publicTable })
        for table in catalog.values.sorted(by: { $0.name < $1.name }) where !declaredNames.contains(table.name) {
            if undeclared[table.name] == nil {
                problems.append("\(table.name): in the database but no Swift declaration (declare it, or say why not)")
            }
            if table.columns.contains(where: { $0.name == "org_id" }) {
                problems += rowSecurityProblems(table, "it has an org_id column")
            }
        }
        return problems
    }

    static func disagreements(_ declared: any DeclaredTable.Type, _ table: CatalogTable) -> [String] {
        var columns = declared.columnDeclarations
        var problems: [String] = []
        // A mixed catalog's organization column is NOT NULL in its table, and NULL in what a read
        // returns (the public rows): declared optional, checked as the organization column below.
        if declared.scoping.kind == .mixedCatalog, let org = columns.firstIndex(where: { $0.name == declared.scoping.orgColumn }) {
            if !columns[org].isNullable {
                problems.append("\(table.name).\(columns[org].name): \(declared) is a mixed catalog, whose public rows read it as NULL, but declares it non-optional")
            }
            columns.remove(at: org)
        }
        let alsoKnown = declared.scoping.kind == .mixedCatalog ? declared.scoping.orgColumn : nil
        return problems + columnDisagreements(declared, columns, table, alsoKnown: alsoKnown)
            + scopingProblems(declared.scoping, "\(declared)", table)
    }

    /// A mixed catalog's public table has the declaration's columns but the organization column.
    static func publicTableDisagreements(_ declared: any DeclaredTable.Type, _ catalog: [String: CatalogTable]) -> [String] {
        guard let publicTable = declared.scoping.publicTable else { return [] }
        guard let table = catalog[publicTable] else {
            return ["\(publicTable): \(declared) keeps its public rows there but the database has no such table"]
        }
        let columns = declared.columnDeclarations.filter { $0.name != declared.scoping.orgColumn }
        return columnDisagreements(declared, columns, table)
            + scopingProblems(.global, "the public rows of \(declared)", table)
    }

    static func columnDisagreements(
        _ declared: any DeclaredTable.Type, _ columns: [ColumnDeclaration], _ table: CatalogTable, alsoKnown: String? = nil
    ) -> [String] {
        let name = "\(declared)"
        var problems: [String] = []
        var seen: Set<String> = alsoKnown.map { [$0] } ?? []
        for column in columns {
            let subject = "\(table.name).\(column.name)"
            guard seen.insert(column.name).inserted else {
                problems.append("\(subject): listed twice in \(name).columns")
                continue
            }
            guard let actual = table.columns.first(where: { $0.name == column.name }) else {
                problems.append("\(subject): declared in \(name) but the database has no such column")
                continue
            }
            if actual.baseTypeOID != Int64(column.type.oid) {
                problems.append("\(subject): \(name) declares \(column.type), the database has \(actual.type)")
            }
            if actual.isNullable != column.isNullable {
                problems.append(actual.isNullable
                    ? "\(subject): \(name) declares it non-optional but the database allows NULL"
                    : "\(subject): \(name) declares it optional but the database has it NOT NULL")
            }
        }
        for column in table.columns where !seen.contains(column.name) {
            problems.append("\(table.name).\(column.name): in the database but not in \(name).columns")
        }
        return problems
    }

    static func scopingProblems(_ scoping: TableScoping, _ name: String, _ table: CatalogTable) -> [String] {
        let orgColumn = scoping.orgColumn.flatMap { column in table.columns.first { $0.name == column } }
        switch scoping.kind {
        case .global:
            guard table.columns.contains(where: { $0.name == "org_id" }) else { return [] }
            return ["\(table.name).org_id: \(name) is declared global but the table has an org_id column"]
        case .tenant, .mixedCatalog:
            let column = "\(table.name).\(scoping.orgColumn ?? "?")"
            guard let orgColumn else { return ["\(column): \(name) is declared \(scoping) but the table has no such column"] }
            var problems = rowSecurityProblems(table, "\(name) is declared \(scoping)")
            if orgColumn.baseTypeOID != Int64(PostgresType.uuid.oid) {
                problems.append("\(column): the organization column of \(name) is \(orgColumn.type), not uuid")
            }
            if orgColumn.isNullable {
                problems.append("\(column): \(name) is declared \(scoping) but the column allows NULL (a row of no organization)")
            }
            return problems
        }
    }

    static func rowSecurityProblems(_ table: CatalogTable, _ because: String) -> [String] {
        var problems: [String] = []
        if !table.rowSecurityEnabled { problems.append("\(table.name): \(because) but row-level security is not enabled") }
        if !table.rowSecurityForced { problems.append("\(table.name): \(because) but row-level security is not forced") }
        return problems
    }
}

/// One table of the `public` schema as the catalog describes it.
struct CatalogTable: Sendable {
    struct Column: Sendable {
        let name: String
        /// `format_type`, for messages.
        let type: String
        /// The type's OID, or its base type's for a domain: what a Swift value is sent as.
        let baseTypeOID: Int64
        let isNullable: Bool
    }

    let name: String
    let rowSecurityEnabled: Bool
    let rowSecurityForced: Bool
    let columns: [Column]

    /// Every ordinary and partitioned table of `public`, by name, columns in order.
    static func all(on connection: PostgresConnection) async throws -> [String: CatalogTable] {
        struct Row: Decodable {
            let tableName: String; let rlsEnabled: Bool; let rlsForced: Bool
            let columnName: String; let typeName: String; let baseTypeOid: Int64; let nullable: Bool
        }
        let rows = try await connection.fetchAll("""
            SELECT c.relname::text AS table_name, c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
                   a.attname::text AS column_name, format_type(a.atttypid, a.atttypmod) AS type_name,
                   (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::int8 AS base_type_oid,
                   NOT a.attnotnull AS nullable
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY c.relname, a.attnum
            """, as: Row.self)
        return Dictionary(grouping: rows, by: \.tableName).mapValues { rows in
            CatalogTable(
                name: rows[0].tableName, rowSecurityEnabled: rows[0].rlsEnabled, rowSecurityForced: rows[0].rlsForced,
                columns: rows.map { Column(name: $0.columnName, type: $0.typeName, baseTypeOID: $0.baseTypeOid, isNullable: $0.nullable) })
        }
    }
}

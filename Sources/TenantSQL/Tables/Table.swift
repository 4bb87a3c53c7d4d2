import Foundation
import TenantKitPostgres

/// How a table relates to organizations, which decides the predicate the builder adds for it.
///
/// - ``tenant``: every row belongs to one organization (`org_id NOT NULL`). Reads and writes get
///   `alias.org_id = $n`.
/// - ``global``: no organization (users). No predicate.
/// - ``mixedCatalog(publicRowsIn:)``: each organization's private rows, plus public rows that live
///   in a second table without the organization column. A read sees the org's rows and the public
///   ones (`UNION ALL`, the public rows' organization column `NULL`); a write gets `alias.org_id = $n`
///   and touches the org's own rows only.
public struct TableScoping: Sendable, Hashable, CustomStringConvertible {
    /// The three kinds of table.
    public enum Kind: Sendable, Hashable { case tenant, global, mixedCatalog }

    public let kind: Kind
    /// The column holding the organization id; nil for global tables.
    public let orgColumn: String?
    /// For a mixed catalog, the table of its public rows (the same columns but the organization's).
    public let publicTable: String?

    init(kind: Kind, orgColumn: String?, publicTable: String? = nil) {
        self.kind = kind
        self.orgColumn = orgColumn
        self.publicTable = publicTable
    }

    /// A tenant table whose organization column is `org_id`.
    public static let tenant = TableScoping(kind: .tenant, orgColumn: "org_id")
    /// A tenant table whose organization column has another name (`organizations.id`).
    public static func tenant(orgColumn: String) -> TableScoping { TableScoping(kind: .tenant, orgColumn: orgColumn) }
    /// A table without organizations.
    public static let global = TableScoping(kind: .global, orgColumn: nil)
    /// Private rows of each organization (organization column `org_id`) plus the public rows of
    /// `publicTable`, which has the same columns but `org_id`.
    public static func mixedCatalog(publicRowsIn publicTable: String) -> TableScoping {
        TableScoping(kind: .mixedCatalog, orgColumn: "org_id", publicTable: publicTable)
    }

    /// True for tables a statement may only name inside a scope.
    public var needsScope: Bool { kind != .global }

    public var description: String {
        switch kind {
        case .tenant: "tenant(\(orgColumn ?? "?"))"
        case .global: "global"
        case .mixedCatalog: "mixedCatalog(\(orgColumn ?? "?"), public rows in \(publicTable ?? "?"))"
        }
    }
}

/// One use of a table in a statement: its name, the alias it goes by and its scoping.
///
/// Two references to the same table with different aliases are a self-join; each one is scoped.
public struct TableReference: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let alias: String
    public let scoping: TableScoping

    public init(name: String, alias: String, scoping: TableScoping) {
        self.name = name
        self.alias = alias
        self.scoping = scoping
    }

    /// True when the statement writes `FROM name AS alias` rather than just `FROM name`.
    var hasExplicitAlias: Bool { alias != name }

    public var description: String { hasExplicitAlias ? "\(name) AS \(alias)" : name }
}

/// A table declaration: its name, scoping and typed columns.
///
/// Declare one struct per table; columns are computed properties so every alias gets its own:
///
/// ```swift
/// struct RunsTable: Table {
///     static let tableName = "runs"
///     static let scoping = TableScoping.tenant
///     let reference: TableReference
///     init(reference: TableReference) { self.reference = reference }
///
///     var orgID: OrgColumn<UUID> { orgColumn() }
///     var id: Column<UUID> { column("id") }
///     var status: Column<String> { column("status") }
/// }
///
/// let runs = RunsTable.table            // FROM "runs"
/// let earlier = RunsTable.as("earlier") // FROM "runs" AS "earlier" (for self-joins)
/// ```
public protocol Table: Sendable {
    /// The table's name in the database.
    static var tableName: String { get }
    /// Whether rows belong to organizations.
    static var scoping: TableScoping { get }
    /// This use of the table (name and alias).
    var reference: TableReference { get }
    /// Makes a use of the table; call ``table`` or ``as(_:)`` instead.
    init(reference: TableReference)
}

extension Table {
    /// The table under its own name.
    public static var table: Self { Self(reference: TableReference(name: tableName, alias: tableName, scoping: scoping)) }

    /// The table under an alias, for self-joins and subqueries that must not shadow the outer query.
    public static func `as`(_ alias: String) -> Self {
        Self(reference: TableReference(name: tableName, alias: alias, scoping: scoping))
    }

    /// A typed column of this use of the table.
    public func column<Value>(_ name: String, as type: Value.Type = Value.self) -> Column<Value> {
        Column(table: reference, name: name)
    }

    /// The organization column. Only valid on tenant and mixed tables (checked when declared).
    public func orgColumn<Value>(as type: Value.Type = Value.self) -> OrgColumn<Value> {
        precondition(reference.scoping.orgColumn != nil, "\(Self.tableName) is a global table: it has no organization column")
        return OrgColumn(table: reference, name: reference.scoping.orgColumn!)
    }

    /// `alias.*`, every column of this table.
    public var allColumns: SelectItem { SelectItem(fragment: SQLFragment(.column(reference, "*")), label: nil) }
}

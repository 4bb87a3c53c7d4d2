import Foundation
import TenantKitPostgres

/// Turns a statement into SQL text and binds, adding the organization predicates on the way.
///
/// Only ``OrgScope``, ``ScopedTransaction``, ``UnscopedAccess`` and ``Statement/renderGlobal()``
/// make renderers; statements write themselves into one through ``Statement/render(into:)``.
///
/// Placeholders are numbered in the order they appear in the text. The organization id is one
/// bind, allocated where it first appears and reused by every later predicate, so the text of a
/// statement depends only on its shape, never on the organization.
public struct SQLRenderer {
    enum Mode {
        /// Tenant tables are scoped to this organization.
        case scoped(UUID)
        /// No predicates or stamps (platform operators, audited).
        case unscoped
        /// Only global tables may appear.
        case globalOnly
    }

    /// What a predicate guards: reads see the public catalog too, writes only the org's own rows.
    enum Access { case read, write }
    /// Which rows of a mixed catalog a read of its table sees: both kinds (the table is then the
    /// union ``writeCatalogUnion(_:columns:)`` writes), or one half of a split page.
    enum CatalogRows { case visible, publicOnly, ownOnly }

    let mode: Mode
    private var sql = ""
    private var binds = PostgresBindings()
    /// The bound values in `$n` order; kept for tests, which cannot read encoded binds back.
    private(set) var boundValues: [any PostgresEncodable] = []
    private var orgPlaceholder: String?
    /// Aliases visible at each nesting level, outermost first.
    private var levels: [[String: TableReference]] = []
    /// The mixed catalogs whose public half is being written: their organization column reads NULL.
    private var publicRowsOf: Set<TableReference> = []

    init(mode: Mode) { self.mode = mode }

    static func render(_ statement: some Statement, mode: Mode) throws -> PostgresQuery {
        var renderer = SQLRenderer(mode: mode)
        try statement.render(into: &renderer)
        return PostgresQuery(trustedSQL: renderer.sql, binds: renderer.binds)
    }

    /// The SQL text and the bound values themselves, for tests.
    static func inspect(_ statement: some Statement, mode: Mode) throws -> (sql: String, values: [any PostgresEncodable]) {
        var renderer = SQLRenderer(mode: mode)
        try statement.render(into: &renderer)
        return (renderer.sql, renderer.boundValues)
    }

    // MARK: Writing

    mutating func write(_ text: String) { sql += text }

    mutating func writeBind(_ value: some PostgresEncodable) throws {
        try binds.append(value)
        boundValues.append(value)
        sql += "$\(binds.count)"
    }

    /// The organization id's placeholder: a new bind the first time, the same one afterwards.
    mutating func writeOrgBind() throws {
        guard case .scoped(let orgID) = mode else {
            preconditionFailure("org predicates are only written in scoped mode")
        }
        if let orgPlaceholder {
            sql += orgPlaceholder
            return
        }
        try writeBind(orgID)
        orgPlaceholder = "$\(binds.count)"
    }

    mutating func write(_ fragment: SQLFragment) throws {
        for part in fragment.parts {
            switch part {
            case .text(let text):
                sql += text
            case .bareColumn(let name):
                sql += PostgresIdentifier(name).quoted
            case .column(let table, let name):
                try checkVisible(table, column: name)
                if publicRowsOf.contains(table), name == table.scoping.orgColumn {
                    sql += Self.noOrganization  // the public rows belong to no organization
                } else {
                    sql += PostgresIdentifier(table.alias).quoted + "." + (name == "*" ? "*" : PostgresIdentifier(name).quoted)
                }
            case .bind(let value):
                try writeBind(value)
            case .subquery(let select):
                try select.render(into: &self)
            }
        }
    }

    mutating func writeList(_ items: [SelectItem]) throws {
        for (i, item) in items.enumerated() {
            if i > 0 { sql += ", " }
            try write(item.fragment)
            if let label = item.label { sql += " AS " + PostgresIdentifier(label).quoted }
        }
    }

    /// `name` or `name AS alias`.
    mutating func writeTable(_ table: TableReference) {
        sql += PostgresIdentifier(table.name).quoted
        if table.hasExplicitAlias { sql += " AS " + PostgresIdentifier(table.alias).quoted }
    }

    /// A mixed catalog as a FROM item: `(SELECT cols FROM private WHERE org = $n UNION ALL SELECT cols
    /// FROM public) AS alias`, with NULL for the public rows' organization column. Only `columns`
    /// (those the statement names) are read; the organization predicate sits in the private arm,
    /// where an index (and, on Citus, shard pruning) can use it.
    mutating func writeCatalogUnion(_ table: TableReference, columns: [String]) throws {
        guard let orgColumn = table.scoping.orgColumn, let publicTable = table.scoping.publicTable else {
            preconditionFailure("\(table) is not a mixed catalog")
        }
        let list = columns.map { PostgresIdentifier($0).quoted }
        sql += "(SELECT " + list.joined(separator: ", ") + " FROM "
        writeTable(table)
        if predicateNeeded(for: table, .read) {
            sql += " WHERE " + PostgresIdentifier(table.alias).quoted + "." + PostgresIdentifier(orgColumn).quoted + " = "
            try writeOrgBind()
        }
        let publicList = zip(columns, list).map { $0.0 == orgColumn ? Self.noOrganization : $0.1 }
        sql += " UNION ALL SELECT " + publicList.joined(separator: ", ") + " FROM " + PostgresIdentifier(publicTable).quoted
        sql += ") AS " + PostgresIdentifier(table.alias).quoted
    }

    /// Runs `body` (the public half of a split page) with `table`'s organization column read as NULL.
    mutating func writingPublicRows(of table: TableReference, _ body: (inout SQLRenderer) throws -> Void) throws {
        let inserted = publicRowsOf.insert(table).inserted
        defer { if inserted { publicRowsOf.remove(table) } }
        try body(&self)
    }

    /// The organization column of a public row: a typed NULL, so that it may also be an ORDER BY
    /// term and resolves like the column it stands for (organization ids are uuids).
    static let noOrganization = "NULL::uuid"

    /// `"column" = value, ...` for UPDATE SET and ON CONFLICT DO UPDATE SET.
    mutating func writeSetList(_ assignments: [Assignment], of table: TableReference) throws {
        for (i, assignment) in assignments.enumerated() {
            try checkAssignmentTarget(assignment, of: table)
            if assignment.column == table.scoping.orgColumn {
                throw TenantSQLError(
                    .orgColumnAssigned,
                    "\(table.name).\(assignment.column) is the organization column; rows never move between organizations")
            }
            if i > 0 { sql += ", " }
            sql += PostgresIdentifier(assignment.column).quoted + " = "
            try write(assignment.value)
        }
    }

    // MARK: Scoping

    /// True when `table` gets an organization predicate in this mode.
    func predicateNeeded(for table: TableReference, _ access: Access) -> Bool {
        guard case .scoped = mode else { return false }
        return table.scoping.needsScope
    }

    /// True when INSERT stamps the organization column.
    func stampsOrgID(_ table: TableReference) -> Bool { predicateNeeded(for: table, .write) }

    /// True when a statement writes an organization predicate for `table` in its own WHERE or ON:
    /// a mixed catalog's read carries it inside the union, or, split, in the own half only.
    func writesPredicate(for table: TableReference, _ access: Access, rows: CatalogRows = .visible) -> Bool {
        guard predicateNeeded(for: table, access) else { return false }
        return table.scoping.kind != .mixedCatalog || access == .write || rows == .ownOnly
    }

    /// Writes the organization predicate for `table` (if any), then `condition` (if any), ANDed.
    mutating func writeConditions(
        scoping table: TableReference, for access: Access, rows: CatalogRows = .visible, then condition: SQLFragment?
    ) throws {
        var wrote = false
        if writesPredicate(for: table, access, rows: rows), let orgColumn = table.scoping.orgColumn {
            sql += PostgresIdentifier(table.alias).quoted + "." + PostgresIdentifier(orgColumn).quoted + " = "
            try writeOrgBind()
            wrote = true
        }
        if let condition {
            if wrote { sql += " AND " }
            try write(wrote ? condition.operand(atLeast: .and) : condition)
        } else if !wrote {
            sql += "TRUE"
        }
    }

    /// Runs `body` with `tables` visible (a FROM list); an alias may not repeat one already visible.
    mutating func withLevel(declaring tables: [TableReference], _ body: (inout SQLRenderer) throws -> Void) throws {
        var level: [String: TableReference] = [:]
        for table in tables {
            if case .globalOnly = mode, table.scoping.needsScope {
                throw TenantSQLError(
                    .tenantTableWithoutScope,
                    "\(table.name) is a \(table.scoping) table: render the statement through an OrgScope")
            }
            if level[table.alias] != nil || levels.contains(where: { $0[table.alias] != nil }) {
                throw TenantSQLError(
                    .duplicateAlias,
                    "alias \"\(table.alias)\" is used twice in one statement; give one of them another alias with .as(_:)")
            }
            level[table.alias] = table
        }
        levels.append(level)
        defer { levels.removeLast() }
        try body(&self)
    }

    private func checkVisible(_ table: TableReference, column: String) throws {
        for level in levels.reversed() {
            if let visible = level[table.alias] {
                guard visible == table else { break }
                return
            }
        }
        throw TenantSQLError(
            .unknownTable,
            "column \(table.alias).\(column) refers to \(table), which is not in this statement's FROM or JOIN list")
    }

    func checkAssignmentTarget(_ assignment: Assignment, of table: TableReference) throws {
        guard assignment.table.name == table.name else {
            throw TenantSQLError(.unknownTable, "column \(assignment.table.name).\(assignment.column) assigned in a statement on \(table.name)")
        }
    }

    /// A row to insert may carry the organization id only if it is the scope's own.
    func checkCarriedOrgID(_ assignment: Assignment, of table: TableReference) throws {
        guard case .scoped(let orgID) = mode else { return }
        let carried: UUID?? = switch assignment.literal {
        case let id as UUID: .some(id)
        case let id as UUID?: .some(id)
        default: .none
        }
        guard let carried else {
            throw TenantSQLError(
                .foreignOrganization,
                "\(table.name).\(assignment.column) must be a plain organization id to be checked against the scope")
        }
        guard carried == orgID else {
            throw TenantSQLError(
                .foreignOrganization,
                "a row for \(table.name) carries another organization id than the scope's; nothing was sent")
        }
    }
}

/// A statement the builder refuses to render, found before anything is sent.
///
/// Descriptions name tables and columns, never values.
public struct TenantSQLError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// A tenant or mixed table was rendered without an org scope.
        public static let tenantTableWithoutScope = Kind(raw: "tenant table without scope")
        /// An INSERT row carries an organization id other than the scope's.
        public static let foreignOrganization = Kind(raw: "foreign organization")
        /// An UPDATE or ON CONFLICT DO UPDATE assigns the organization column.
        public static let orgColumnAssigned = Kind(raw: "organization column assigned")
        /// The same alias appears twice where both are visible.
        public static let duplicateAlias = Kind(raw: "duplicate alias")
        /// A column refers to a table the statement does not name (or to a shadowed alias).
        public static let unknownTable = Kind(raw: "unknown table")
        /// An INSERT without rows or an UPDATE without assignments.
        public static let emptyStatement = Kind(raw: "empty statement")
        /// Unscoped access was asked for without a reason.
        public static let missingReason = Kind(raw: "missing reason")
        /// A statement's shape cannot be rendered (a read of a mixed catalog that selects `*`).
        public static let unsupportedShape = Kind(raw: "unsupported shape")
        public var description: String { raw }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }
}

import TenantKitPostgres

/// A statement the builder can render: ``Select``, ``Insert``, ``Update``, ``Delete``.
///
/// There is no way to turn a statement into SQL without saying which organization it runs for:
/// render it through an ``OrgScope`` (or a ``ScopedTransaction``), through the audited
/// ``UnscopedAccess``, or with ``renderGlobal()``, which refuses any statement that names a tenant table.
public protocol Statement: Sendable {
    /// Every table the statement names, in FROM, JOINs and every subquery, each with its alias.
    var referencedTables: [TableReference] { get }
    /// Writes the statement; the renderer adds the org predicates and stamps.
    func render(into renderer: inout SQLRenderer) throws
}

extension Statement {
    /// Renders a statement that names only global tables (users): no scope is needed.
    ///
    /// Throws ``TenantSQLError/Kind/tenantTableWithoutScope`` for any statement naming a tenant or
    /// mixed table, however deep in a subquery.
    public func renderGlobal() throws -> PostgresQuery {
        try SQLRenderer.render(self, mode: .globalOnly)
    }
}

/// One entry of a SELECT or RETURNING list.
public struct SelectItem: Selectable {
    let fragment: SQLFragment
    let label: String?
    public var selectItem: SelectItem { self }
}

/// One ORDER BY term: `expr.asc`, `expr.desc`, `expr.desc.nullsLast`.
public struct OrderingTerm: Sendable {
    enum Direction: Sendable { case ascending, descending }
    let fragment: SQLFragment
    let direction: Direction
    let nulls: String?

    /// NULLs sort first.
    public var nullsFirst: OrderingTerm { OrderingTerm(fragment: fragment, direction: direction, nulls: "FIRST") }
    /// NULLs sort last.
    public var nullsLast: OrderingTerm { OrderingTerm(fragment: fragment, direction: direction, nulls: "LAST") }

    /// ` DESC` and ` NULLS ...` after the sort key, as asked for.
    func writeDirection(into r: inout SQLRenderer) {
        if direction == .descending { r.write(" DESC") }
        if let nulls { r.write(" NULLS \(nulls)") }
    }
}

/// `column = value` in an INSERT row or an UPDATE SET list; made with ``Column/set(_:)-(Value)``.
public struct Assignment: Sendable {
    let table: TableReference
    let column: String
    let value: SQLFragment
    /// The value itself when it is a plain bind, so the renderer can check an organization id.
    let literal: (any PostgresEncodable)?
}

/// The organization id carried by a row to insert; see ``OrgColumn/set(_:)``.
public struct OrgAssignment: Sendable {
    let assignment: Assignment
}

/// What an INSERT row is made of: column assignments and, optionally, the row's organization id.
public protocol InsertValue: Sendable {
    var insertAssignment: Assignment { get }
}

extension Assignment: InsertValue { public var insertAssignment: Assignment { self } }
extension OrgAssignment: InsertValue { public var insertAssignment: Assignment { assignment } }

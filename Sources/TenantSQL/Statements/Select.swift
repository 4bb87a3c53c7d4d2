import TenantKitPostgres

/// A SELECT statement. Every tenant table it names is scoped when it is rendered.
///
/// ```swift
/// let runs = RunsTable.table
/// let items = CatalogItemsTable.as("item")
/// let recent = Select.from(runs)
///     .columns(runs.id, runs.status, items.name)
///     .join(items, on: items.id == runs.catalogItemID)
///     .where(runs.status.in(["queued", "running"]))
///     .orderBy(runs.createdAt.desc)
///     .limit(20)
/// let rows = try await scope.fetchAll(recent, as: RecentRun.self)
/// // SELECT "runs"."id", "runs"."status", "item"."name" FROM "runs"
/// //   JOIN (SELECT "id", "name" FROM "catalog_items" AS "item" WHERE "item"."org_id" = $1
/// //         UNION ALL SELECT "id", "name" FROM "public_catalog_items") AS "item"
/// //     ON "item"."id" = "runs"."catalog_item_id"
/// //   WHERE "runs"."org_id" = $1 AND "runs"."status" = ANY($2) ORDER BY "runs"."created_at" DESC LIMIT $3
/// ```
public struct Select: Statement {
    /// INNER or LEFT.
    public enum JoinKind: String, Sendable { case inner = "JOIN", left = "LEFT JOIN" }

    struct Join: Sendable {
        let kind: JoinKind
        let table: TableReference
        let condition: SQLFragment
    }

    /// Row locks for a SELECT in a transaction.
    public enum Lock: String, Sendable {
        case forUpdate = "FOR UPDATE"
        case forShare = "FOR SHARE"
        case forUpdateSkipLocked = "FOR UPDATE SKIP LOCKED"
    }

    let source: TableReference
    var items: [SelectItem] = []
    var isDistinct = false
    var joins: [Join] = []
    var filter: SQLFragment?
    var grouping: [SQLFragment] = []
    var havingFilter: SQLFragment?
    var ordering: [OrderingTerm] = []
    var limitCount: Int?
    var offsetCount: Int?
    var lock: Lock?

    init(source: TableReference) { self.source = source }

    /// A SELECT from `table` (every column of it until ``columns(_:)`` says otherwise).
    public static func from(_ table: some Table) -> Select { Select(source: table.reference) }

    /// The SELECT list, replacing the default `alias.*`.
    public func columns(_ items: any Selectable...) -> Select { columns(items) }

    /// The SELECT list, from an array.
    public func columns(_ items: [any Selectable]) -> Select {
        var copy = self
        copy.items = items.map(\.selectItem)
        return copy
    }

    /// `SELECT DISTINCT`.
    public func distinct() -> Select {
        var copy = self
        copy.isDistinct = true
        return copy
    }

    /// `JOIN table ON condition`; the joined table gets its own org predicate in the ON clause.
    public func join(_ table: some Table, on condition: some QueryExpression<Bool>) -> Select {
        adding(Join(kind: .inner, table: table.reference, condition: condition.fragment))
    }

    /// `LEFT JOIN table ON condition`; the org predicate goes in the ON clause, so unmatched rows stay.
    public func leftJoin(_ table: some Table, on condition: some QueryExpression<Bool>) -> Select {
        adding(Join(kind: .left, table: table.reference, condition: condition.fragment))
    }

    private func adding(_ join: Join) -> Select {
        var copy = self
        copy.joins.append(join)
        return copy
    }

    /// Adds a WHERE condition; several calls are ANDed.
    public func `where`(_ condition: some QueryExpression<Bool>) -> Select {
        var copy = self
        copy.filter = copy.filter.map { and($0, condition.fragment) } ?? condition.fragment
        return copy
    }

    /// `GROUP BY` expressions.
    public func groupBy(_ expressions: any QueryExpression...) -> Select {
        var copy = self
        copy.grouping += expressions.map(\.fragment)
        return copy
    }

    /// Adds a HAVING condition; several calls are ANDed.
    public func having(_ condition: some QueryExpression<Bool>) -> Select {
        var copy = self
        copy.havingFilter = copy.havingFilter.map { and($0, condition.fragment) } ?? condition.fragment
        return copy
    }

    /// `ORDER BY` terms, after any given before.
    public func orderBy(_ terms: OrderingTerm...) -> Select {
        var copy = self
        copy.ordering += terms
        return copy
    }

    /// `ORDER BY` expressions, ascending.
    public func orderBy(_ expressions: any QueryExpression...) -> Select {
        var copy = self
        copy.ordering += expressions.map { OrderingTerm(fragment: $0.fragment, direction: .ascending, nulls: nil) }
        return copy
    }

    /// `LIMIT $n` (a bind, so the SQL text stays the same for any page size).
    public func limit(_ count: Int) -> Select {
        var copy = self
        copy.limitCount = count
        return copy
    }

    /// `OFFSET $n`.
    public func offset(_ count: Int) -> Select {
        var copy = self
        copy.offsetCount = count
        return copy
    }

    /// `FOR UPDATE` and friends.
    public func locking(_ lock: Lock) -> Select {
        var copy = self
        copy.lock = lock
        return copy
    }

    /// Keyset pagination on one key: rows after `cursor` in `key` order, `limit` of them.
    ///
    /// ```swift
    /// let page = Select.from(runs).keysetPage(by: runs.createdAt, after: lastSeen, limit: 50)
    /// ```
    public func keysetPage<K: QueryExpression>(
        by key: K, after cursor: K.Value?, descending: Bool = false, limit: Int
    ) -> Select where K.Value: PostgresEncodable {
        var page = self
        if let cursor {
            page = page.where(descending ? key < cursor : key > cursor)
        }
        return page.orderBy(descending ? key.desc : key.asc).limit(limit)
    }

    /// Keyset pagination on two keys (a sort key and a unique tie-breaker):
    /// `WHERE (a, b) > ($1, $2) ORDER BY a, b LIMIT $3`, which an index on `(a, b)` serves directly.
    ///
    /// ```swift
    /// let next = Select.from(runs)
    ///     .keysetPage(by: runs.createdAt, runs.id, after: (last.createdAt, last.id), descending: true, limit: 50)
    /// ```
    public func keysetPage<A: QueryExpression, B: QueryExpression>(
        by first: A, _ second: B, after cursor: (A.Value, B.Value)?, descending: Bool = false, limit: Int
    ) -> Select where A.Value: PostgresEncodable, B.Value: PostgresEncodable {
        var page = self
        if let cursor {
            let tuple = SQLFragment(parts: [.text("(")] + first.fragment.parts + [.text(", ")] + second.fragment.parts
                + [.text(descending ? ") < (" : ") > ("), .bind(cursor.0), .text(", "), .bind(cursor.1), .text(")")],
                precedence: .comparison)
            page = page.where(SQLExpression<Bool>(tuple))
        }
        return page.orderBy(descending ? first.desc : first.asc, descending ? second.desc : second.asc).limit(limit)
    }

    /// The statement as a scalar subquery: `(SELECT ...)`, typed by the caller (NULL when no row).
    public func scalar<V>(as type: V.Type) -> SQLExpression<V?> {
        SQLExpression(SQLFragment(.text("("), .subquery(self), .text(")")))
    }

    // MARK: Statement

    public var referencedTables: [TableReference] {
        var tables = [source] + joins.map(\.table)
        for fragment in allFragments { tables += fragment.referencedTables }
        return tables
    }

    /// Subqueries directly inside this statement (not nested deeper).
    public var subqueries: [Select] { allFragments.flatMap(\.subqueries) }

    var allFragments: [SQLFragment] {
        items.map(\.fragment) + joins.map(\.condition) + [filter, havingFilter].compactMap { $0 }
            + grouping + ordering.map(\.fragment)
    }

    /// A scoped read of a ``TableScoping/mixedCatalog(publicRowsIn:)`` table that is one page (it
    /// orders by selected columns and has a `LIMIT`, but no join, grouping, `DISTINCT`, `OFFSET` or
    /// lock) renders as its own rows and the public ones, each ordered and limited on its own, then
    /// merged: `(SELECT ... WHERE org_id = $1 ORDER BY k LIMIT $2) UNION ALL (SELECT ... FROM public
    /// ORDER BY k LIMIT $3) ORDER BY k LIMIT $4`. Each half is an ordered index scan that stops after
    /// a page, so a page costs the same with 100 organizations or 10,000. Any other read of it reads
    /// the union as its FROM item (``SQLRenderer/writeCatalogUnion(_:columns:)``).
    public func render(into r: inout SQLRenderer) throws {
        if lock != nil, let catalog = ([source] + joins.map(\.table)).first(where: { $0.scoping.kind == .mixedCatalog }) {
            throw TenantSQLError(.unsupportedShape, "a read of \(catalog.name) cannot lock rows: its public rows are read through a UNION")
        }
        if source.scoping.kind == .mixedCatalog, r.predicateNeeded(for: source, .read), let page = try pageMerge() {
            try renderPublicAndOwnRows(into: &r, merging: page)
        } else {
            try render(into: &r, rows: .visible)
        }
    }

    /// How a split page's halves merge: by these output names, to this many rows.
    private struct PageMerge {
        let names: [String]
        let limit: Int
    }

    /// How to merge this statement's halves, or nil when it is not a page that splits.
    private func pageMerge() throws -> PageMerge? {
        guard joins.isEmpty, grouping.isEmpty, havingFilter == nil, !isDistinct, offsetCount == nil, lock == nil,
              let limitCount, !ordering.isEmpty else { return nil }
        _ = try columnsRead(of: source)  // refuses `*` before anything else
        func column(_ fragment: SQLFragment) -> String? {
            guard fragment.parts.count == 1, case .column(let table, let name) = fragment.parts[0], table == source else { return nil }
            return name
        }
        // The merge orders by output names: each must name one output column. An expression
        // without a label gets a name from PostgreSQL, which might be one of them.
        var outputNames: [String: String] = [:]
        var allOutputNames: [String] = []
        for item in items {
            let name = column(item.fragment)
            guard let output = item.label ?? name else { return nil }
            allOutputNames.append(output)
            if let name { outputNames[name] = outputNames[name] ?? output }
        }
        var names: [String] = []
        for term in ordering {
            guard let name = column(term.fragment), let output = outputNames[name],
                  allOutputNames.filter({ $0 == output }).count == 1 else { return nil }
            names.append(output)
        }
        return PageMerge(names: names, limit: limitCount)
    }

    private func renderPublicAndOwnRows(into r: inout SQLRenderer, merging page: PageMerge) throws {
        // The own half first: a UNION takes its output columns from its first branch, here the
        // table's own (the public half's organization column is only a NULL).
        r.write("(")
        try render(into: &r, rows: .ownOnly)
        r.write(") UNION ALL (")
        try r.writingPublicRows(of: source) { try render(into: &$0, rows: .publicOnly) }
        r.write(") ORDER BY ")
        for (i, term) in ordering.enumerated() {
            if i > 0 { r.write(", ") }
            r.write(PostgresIdentifier(page.names[i]).quoted)
            term.writeDirection(into: &r)
        }
        r.write(" LIMIT ")
        try r.writeBind(Int64(page.limit))
    }

    /// The columns of `table` the statement names anywhere, its subqueries included, sorted. A
    /// mixed catalog's two tables differ in the organization column, so `*` cannot be read.
    private func columnsRead(of table: TableReference) throws -> [String] {
        var names = Set<String>()
        collectColumns(of: table, into: &names)
        if (table == source && items.isEmpty) || names.contains("*") {
            throw TenantSQLError(
                .unsupportedShape,
                "a read of \(table.name) must name its columns: its public rows are in \(table.scoping.publicTable ?? "?"), which has no \(table.scoping.orgColumn ?? "?")")
        }
        return names.sorted()
    }

    private func collectColumns(of table: TableReference, into names: inout Set<String>) {
        for fragment in allFragments {
            for part in fragment.parts {
                switch part {
                case .column(let referenced, let name) where referenced == table: names.insert(name)
                case .subquery(let select): select.collectColumns(of: table, into: &names)
                default: break
                }
            }
        }
    }

    /// Writes `table` as a FROM item: a mixed catalog's union (or one half of it), else its name.
    private func writeFromItem(_ table: TableReference, rows: SQLRenderer.CatalogRows, into r: inout SQLRenderer) throws {
        guard table.scoping.kind == .mixedCatalog, let publicTable = table.scoping.publicTable else {
            return r.writeTable(table)
        }
        switch rows {
        case .visible: try r.writeCatalogUnion(table, columns: columnsRead(of: table))
        case .ownOnly: r.writeTable(table)
        case .publicOnly: r.write(PostgresIdentifier(publicTable).quoted + " AS " + PostgresIdentifier(table.alias).quoted)
        }
    }

    private func render(into r: inout SQLRenderer, rows: SQLRenderer.CatalogRows) throws {
        try r.withLevel(declaring: [source] + joins.map(\.table)) { r in
            r.write(isDistinct ? "SELECT DISTINCT " : "SELECT ")
            if items.isEmpty {
                try r.write(SQLFragment(.column(source, "*")))
            } else {
                try r.writeList(items)
            }
            r.write(" FROM ")
            try writeFromItem(source, rows: rows, into: &r)
            for join in joins {
                r.write(" \(join.kind.rawValue) ")
                try writeFromItem(join.table, rows: .visible, into: &r)
                r.write(" ON ")
                try r.writeConditions(scoping: join.table, for: .read, then: join.condition)
            }
            if r.writesPredicate(for: source, .read, rows: rows) || filter != nil {
                r.write(" WHERE ")
                try r.writeConditions(scoping: source, for: .read, rows: rows, then: filter)
            }
            if !grouping.isEmpty {
                r.write(" GROUP BY ")
                try r.write(SQLFragment.joined(grouping, separator: ", "))
            }
            if let havingFilter {
                r.write(" HAVING ")
                try r.write(havingFilter)
            }
            if !ordering.isEmpty {
                r.write(" ORDER BY ")
                for (i, term) in ordering.enumerated() {
                    if i > 0 { r.write(", ") }
                    try r.write(term.fragment.operand(atLeast: .additive))
                    term.writeDirection(into: &r)
                }
            }
            if let limitCount {
                r.write(" LIMIT ")
                try r.writeBind(Int64(limitCount))
            }
            if let offsetCount {
                r.write(" OFFSET ")
                try r.writeBind(Int64(offsetCount))
            }
            if let lock { r.write(" \(lock.rawValue)") }
        }
    }
}

func and(_ lhs: SQLFragment, _ rhs: SQLFragment) -> SQLFragment {
    SQLFragment(
        parts: lhs.operand(atLeast: .and).parts + [.text(" AND ")] + rhs.operand(atLeast: .and).parts,
        precedence: .and)
}

import TenantKitPostgres

/// An UPDATE. In a scope it only touches the scope's rows (`alias.org_id = $n`, own rows only on the
/// mixed catalog), and it can never assign the organization column: ``OrgColumn`` has no
/// assignment, and a plain ``Column`` that names it is refused when rendering.
///
/// ```swift
/// let runs = RunsTable.table
/// let finish = Update.table(runs)
///     .set(runs.status.set("succeeded"), runs.finishedAt.set(Date()))
///     .where(runs.id == runID)
/// try await scope.execute(finish)
/// // UPDATE "runs" SET "status" = $1, "finished_at" = $2 WHERE "runs"."org_id" = $3 AND "runs"."id" = $4
/// ```
public struct Update: Statement {
    let table: TableReference
    var assignments: [Assignment] = []
    var filter: SQLFragment?
    var returningItems: [SelectItem] = []

    /// An UPDATE of `table`.
    public static func table(_ table: some Table) -> Update { Update(table: table.reference) }

    /// Adds `column = value` assignments.
    public func set(_ assignments: Assignment...) -> Update { set(assignments) }

    /// Adds `column = value` assignments, from a list built at run time.
    public func set(_ assignments: [Assignment]) -> Update {
        var copy = self
        copy.assignments += assignments
        return copy
    }

    /// Adds a WHERE condition; several calls are ANDed. Without one, every row of the scope's org is updated.
    public func `where`(_ condition: some QueryExpression<Bool>) -> Update {
        var copy = self
        copy.filter = copy.filter.map { and($0, condition.fragment) } ?? condition.fragment
        return copy
    }

    /// `RETURNING` items.
    public func returning(_ items: any Selectable...) -> Update { returning(items) }

    /// `RETURNING` items, from a list.
    public func returning(_ items: [any Selectable]) -> Update {
        var copy = self
        copy.returningItems = items.map(\.selectItem)
        return copy
    }

    public var referencedTables: [TableReference] {
        [table] + (assignments.map(\.value) + [filter].compactMap { $0 } + returningItems.map(\.fragment))
            .flatMap(\.referencedTables)
    }

    public func render(into r: inout SQLRenderer) throws {
        guard !assignments.isEmpty else { throw TenantSQLError(.emptyStatement, "UPDATE of \(table.name) sets nothing") }
        try r.withLevel(declaring: [table]) { r in
            r.write("UPDATE ")
            r.writeTable(table)
            r.write(" SET ")
            try r.writeSetList(assignments, of: table)
            if r.predicateNeeded(for: table, .write) || filter != nil {
                r.write(" WHERE ")
                try r.writeConditions(scoping: table, for: .write, then: filter)
            }
            if !returningItems.isEmpty {
                r.write(" RETURNING ")
                try r.writeList(returningItems)
            }
        }
    }
}

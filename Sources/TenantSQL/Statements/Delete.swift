import TenantKitPostgres

/// A DELETE. In a scope it only removes the scope's rows (own rows only on the mixed catalog).
///
/// ```swift
/// let invitations = InvitationsTable.table
/// try await scope.execute(Delete.from(invitations).where(invitations.id == invitationID))
/// // DELETE FROM "invitations" WHERE "invitations"."org_id" = $1 AND "invitations"."id" = $2
/// ```
public struct Delete: Statement {
    let table: TableReference
    var filter: SQLFragment?
    var returningItems: [SelectItem] = []

    /// A DELETE from `table`.
    public static func from(_ table: some Table) -> Delete { Delete(table: table.reference) }

    /// Adds a WHERE condition; several calls are ANDed. Without one, every row of the scope's org goes.
    public func `where`(_ condition: some QueryExpression<Bool>) -> Delete {
        var copy = self
        copy.filter = copy.filter.map { and($0, condition.fragment) } ?? condition.fragment
        return copy
    }

    /// `RETURNING` items.
    public func returning(_ items: any Selectable...) -> Delete { returning(items) }

    /// `RETURNING` items, from a list.
    public func returning(_ items: [any Selectable]) -> Delete {
        var copy = self
        copy.returningItems = items.map(\.selectItem)
        return copy
    }

    public var referencedTables: [TableReference] {
        [table] + ([filter].compactMap { $0 } + returningItems.map(\.fragment)).flatMap(\.referencedTables)
    }

    public func render(into r: inout SQLRenderer) throws {
        try r.withLevel(declaring: [table]) { r in
            r.write("DELETE FROM ")
            r.writeTable(table)
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

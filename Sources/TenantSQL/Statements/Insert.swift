import TenantKitPostgres

/// An INSERT of one or more rows. In a scope, the organization column is stamped with the
/// scope's org id (a bind); a row that carries another organization id is refused before anything
/// is sent.
///
/// ```swift
/// let keys = APIKeysTable.table
/// let insert = Insert.into(keys)
///     .values(keys.name.set("CI"), keys.prefix.set("tk_3f9a"), keys.keyHash.set(hash))
///     .returning(keys.id)
/// let id = try await scope.fetchOne(insert, as: UUID.self)
/// // INSERT INTO "api_keys" ("org_id", "name", "prefix", "key_hash") VALUES ($1, $2, $3, $4) RETURNING "api_keys"."id"
/// ```
///
/// Rows may set different columns: the column list is their union, and a row that does not set
/// a column writes `DEFAULT` for it.
public struct Insert: Statement {
    enum ConflictAction: Sendable {
        case nothing
        case update([Assignment], SQLFragment?)
    }

    struct Conflict: Sendable {
        let target: [String]
        let action: ConflictAction
    }

    let table: TableReference
    var rows: [[Assignment]] = []
    var conflict: Conflict?
    var returningItems: [SelectItem] = []

    /// An INSERT into `table`; add rows with ``values(_:)``.
    public static func into(_ table: some Table) -> Insert { Insert(table: table.reference) }

    /// Adds one row.
    public func values(_ row: any InsertValue...) -> Insert { values(row) }

    /// Adds one row, from an array.
    public func values(_ row: [any InsertValue]) -> Insert {
        var copy = self
        copy.rows.append(row.map(\.insertAssignment))
        return copy
    }

    /// Adds several rows.
    public func rows(_ rows: [[any InsertValue]]) -> Insert {
        var copy = self
        copy.rows += rows.map { $0.map(\.insertAssignment) }
        return copy
    }

    /// `ON CONFLICT (org_id, columns...) DO NOTHING`. In a scope the organization column leads the
    /// target, matching the tenant tables' unique constraints. No columns: `ON CONFLICT DO NOTHING`.
    public func onConflictDoNothing(_ target: any ColumnNaming...) -> Insert {
        var copy = self
        copy.conflict = Conflict(target: target.map(\.columnName), action: .nothing)
        return copy
    }

    /// `ON CONFLICT (org_id, columns...) DO UPDATE SET ... [WHERE ...]`. Use ``Column/excluded``
    /// for the value the INSERT tried to write.
    public func onConflict(
        _ target: [any ColumnNaming], doUpdate assignments: [Assignment], where condition: SQLExpression<Bool>? = nil
    ) -> Insert {
        var copy = self
        copy.conflict = Conflict(target: target.map(\.columnName), action: .update(assignments, condition?.fragment))
        return copy
    }

    /// `RETURNING` items.
    public func returning(_ items: any Selectable...) -> Insert { returning(items) }

    /// `RETURNING` items, from a list.
    public func returning(_ items: [any Selectable]) -> Insert {
        var copy = self
        copy.returningItems = items.map(\.selectItem)
        return copy
    }

    public var referencedTables: [TableReference] {
        [table] + allFragments.flatMap(\.referencedTables)
    }

    private var allFragments: [SQLFragment] {
        var fragments = rows.flatMap { $0.map(\.value) } + returningItems.map(\.fragment)
        if case .update(let assignments, let condition)? = conflict?.action {
            fragments += assignments.map(\.value) + [condition].compactMap { $0 }
        }
        return fragments
    }

    public func render(into r: inout SQLRenderer) throws {
        guard !rows.isEmpty else { throw TenantSQLError(.emptyStatement, "INSERT into \(table.name) has no rows") }
        let orgColumn = table.scoping.orgColumn
        let stamps = r.stampsOrgID(table)
        var columns: [String] = stamps ? [orgColumn!] : []
        for row in rows {
            for assignment in row {
                try r.checkAssignmentTarget(assignment, of: table)
                if columns.contains(assignment.column) || (stamps && assignment.column == orgColumn) { continue }
                columns.append(assignment.column)
            }
        }
        if stamps {
            for row in rows {
                for assignment in row where assignment.column == orgColumn { try r.checkCarriedOrgID(assignment, of: table) }
            }
        }

        try r.withLevel(declaring: [table]) { r in
            r.write("INSERT INTO ")
            r.writeTable(table)
            r.write(" (")
            r.write(columns.map { PostgresIdentifier($0).quoted }.joined(separator: ", "))
            r.write(") VALUES ")
            for (i, row) in rows.enumerated() {
                r.write(i == 0 ? "(" : ", (")
                for (j, column) in columns.enumerated() {
                    if j > 0 { r.write(", ") }
                    if stamps && column == orgColumn {
                        try r.writeOrgBind()
                    } else if let assignment = row.last(where: { $0.column == column }) {
                        try r.write(assignment.value)
                    } else {
                        r.write("DEFAULT")
                    }
                }
                r.write(")")
            }
            if let conflict {
                r.write(" ON CONFLICT")
                var target = conflict.target
                if stamps, let orgColumn, !target.isEmpty, !target.contains(orgColumn) {
                    target.insert(orgColumn, at: 0)
                }
                if !target.isEmpty {
                    r.write(" (" + target.map { PostgresIdentifier($0).quoted }.joined(separator: ", ") + ")")
                }
                switch conflict.action {
                case .nothing:
                    r.write(" DO NOTHING")
                case .update(let assignments, let condition):
                    guard !assignments.isEmpty else {
                        throw TenantSQLError(.emptyStatement, "ON CONFLICT DO UPDATE on \(table.name) sets nothing")
                    }
                    r.write(" DO UPDATE SET ")
                    try r.writeSetList(assignments, of: table)
                    if let condition {
                        r.write(" WHERE ")
                        try r.write(condition)
                    }
                }
            }
            if !returningItems.isEmpty {
                r.write(" RETURNING ")
                try r.writeList(returningItems)
            }
        }
    }
}

/// A column usable as a conflict target: ``Column`` and ``OrgColumn``.
public protocol ColumnNaming: Sendable {
    var columnName: String { get }
}

extension Column: ColumnNaming { public var columnName: String { name } }
extension OrgColumn: ColumnNaming { public var columnName: String { name } }

import Foundation
import TenantKitPostgres

/// One column as a table declaration states it: its name, the PostgreSQL type its Swift value
/// travels as, and whether the Swift type admits NULL.
public struct ColumnDeclaration: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let type: PostgresType
    public let isNullable: Bool

    public init(name: String, type: PostgresType, isNullable: Bool) {
        self.name = name
        self.type = type
        self.isNullable = isNullable
    }

    public var description: String { "\(name) \(type)\(isNullable ? "" : " NOT NULL")" }
}

/// A column that can state its ``ColumnDeclaration``: its Swift value is a PostgreSQL type.
public protocol DeclaredColumn: Selectable {
    /// What the Swift side says the column is.
    var declaration: ColumnDeclaration { get }
}

/// `Optional`, recognised without knowing its `Wrapped`.
private protocol NullableValue {}
extension Optional: NullableValue {}

extension Column: DeclaredColumn where Value: PostgresEncodable {
    public var declaration: ColumnDeclaration {
        ColumnDeclaration(name: name, type: Value.postgresType, isNullable: Value.self is any NullableValue.Type)
    }
}

extension OrgColumn: DeclaredColumn where Value: PostgresEncodable {
    public var declaration: ColumnDeclaration {
        ColumnDeclaration(name: name, type: Value.postgresType, isNullable: Value.self is any NullableValue.Type)
    }
}

/// A table declaration that lists every column it has, the one place the Swift side names them:
/// selections are derived from the list, and a test checks it against the migrated database.
///
/// ```swift
/// extension RunsTable: DeclaredTable {
///     public var columns: [any DeclaredColumn] { [orgID, id, status] }
/// }
///
/// let runs = RunsTable.table
/// let select = Select.from(runs).columns(runs.columns(excluding: runs.orgID))
/// ```
public protocol DeclaredTable: Table {
    /// Every column of the table, in the database's order.
    var columns: [any DeclaredColumn] { get }
}

extension DeclaredTable {
    /// The table's columns (see ``DeclaredTable/columns``) as a table declaration states them.
    public static var columnDeclarations: [ColumnDeclaration] { table.columns.map(\.declaration) }

    /// Every column but `excluded`, in order: a model's selection, naming only what it leaves out.
    public func columns(excluding excluded: any DeclaredColumn...) -> [any Selectable] {
        let names = Set(excluded.map(\.declaration.name))
        return columns.filter { !names.contains($0.declaration.name) }
    }
}

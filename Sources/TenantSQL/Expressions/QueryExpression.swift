import TenantKitPostgres

/// Something that can appear in a SELECT list: an expression, `expr.as("label")`, `table.allColumns`.
public protocol Selectable: Sendable {
    /// The item as the SELECT list writes it.
    var selectItem: SelectItem { get }
}

/// A typed SQL expression: `Value` is the Swift type of what it evaluates to.
///
/// Operators check types at compile time: an `Int64` column compares with an `Int64` or
/// another `Int64` expression, never with a `String`:
///
/// ```swift
/// let runs = RunsTable.table
/// let filter = runs.status == "failed" && runs.cost > 100   // SQLExpression<Bool>
/// // runs.cost == "100"   // does not compile
/// ```
public protocol QueryExpression<Value>: Selectable {
    associatedtype Value
    /// The expression's SQL, with values still unbound.
    var fragment: SQLFragment { get }
}

extension QueryExpression {
    public var selectItem: SelectItem { SelectItem(fragment: fragment, label: nil) }

    /// The expression under a name in the result: `count(*) AS "n"`.
    public func `as`(_ label: String) -> SelectItem { SelectItem(fragment: fragment, label: label) }

    /// Ascending order.
    public var asc: OrderingTerm { OrderingTerm(fragment: fragment, direction: .ascending, nulls: nil) }
    /// Descending order.
    public var desc: OrderingTerm { OrderingTerm(fragment: fragment, direction: .descending, nulls: nil) }
}

/// An expression built from columns, values, operators and functions.
///
/// WHERE clauses are `SQLExpression<Bool>` values: store them, combine them with `&&`, `||` and `!`,
/// reuse them across statements.
public struct SQLExpression<Value>: QueryExpression {
    public let fragment: SQLFragment

    init(_ fragment: SQLFragment) { self.fragment = fragment }
}

extension SQLExpression where Value: PostgresEncodable {
    /// A value as an expression (sent as a bind parameter).
    public static func value(_ value: Value) -> SQLExpression<Value> { SQLExpression(.bind(value)) }
}

extension SQLExpression where Value == Bool {
    /// `TRUE`, for building a filter up from nothing.
    public static var always: SQLExpression<Bool> { SQLExpression(.text("TRUE")) }
    /// `FALSE`.
    public static var never: SQLExpression<Bool> { SQLExpression(.text("FALSE")) }
}

/// A column of one use of a table, typed by its Swift value (`Column<UUID?>` for a nullable uuid).
public struct Column<Value>: QueryExpression {
    /// The table use (with alias) this column belongs to.
    public let table: TableReference
    public let name: String

    public init(table: TableReference, name: String) {
        self.table = table
        self.name = name
    }

    public var fragment: SQLFragment { SQLFragment(.column(table, name)) }

    /// `EXCLUDED."name"`: the value an `INSERT ... ON CONFLICT DO UPDATE` tried to insert.
    public var excluded: SQLExpression<Value> { SQLExpression(SQLFragment(.text("EXCLUDED."), .bareColumn(name))) }
}

extension Column where Value: PostgresEncodable {
    /// `name = value`, for INSERT rows and UPDATE SET.
    public func set(_ value: Value) -> Assignment {
        Assignment(table: table, column: name, value: .bind(value), literal: value)
    }
}

extension Column {
    /// `name = expression`, such as `balance + 10` or `EXCLUDED.name`.
    public func set(_ expression: some QueryExpression<Value>) -> Assignment {
        Assignment(table: table, column: name, value: expression.fragment, literal: nil)
    }

    /// `name = DEFAULT`.
    public func setDefault() -> Assignment {
        Assignment(table: table, column: name, value: .text("DEFAULT"), literal: nil)
    }
}

/// The organization column of a tenant or mixed table.
///
/// It can be read and compared like any column, but it has no UPDATE assignment: moving a row to
/// another organization does not compile. INSERT stamps it from the scope; a row may still carry
/// it (``set(_:)``), and one that names another organization is refused before anything is sent.
public struct OrgColumn<Value>: QueryExpression {
    public let table: TableReference
    public let name: String

    public init(table: TableReference, name: String) {
        self.table = table
        self.name = name
    }

    public var fragment: SQLFragment { SQLFragment(.column(table, name)) }
}

extension OrgColumn where Value: PostgresEncodable {
    /// The organization a row to insert carries; must be the scope's (checked when rendered).
    public func set(_ value: Value) -> OrgAssignment {
        OrgAssignment(assignment: Assignment(table: table, column: name, value: .bind(value), literal: value))
    }
}

import Foundation
import TenantKitPostgres

private func call<V>(_ name: String, _ arguments: SQLFragment...) -> SQLExpression<V> {
    var parts: [SQLFragment.Part] = [.text(name + "(")]
    for (i, argument) in arguments.enumerated() {
        if i > 0 { parts.append(.text(", ")) }
        parts += argument.parts
    }
    parts.append(.text(")"))
    return SQLExpression(SQLFragment(parts: parts, precedence: .atom))
}

/// `count(*)`.
public func count() -> SQLExpression<Int64> { SQLExpression(.text("count(*)")) }

/// `count(expr)` or `count(DISTINCT expr)`: rows where `expr` is not NULL.
public func count<E: QueryExpression>(_ expression: E, distinct: Bool = false) -> SQLExpression<Int64> {
    distinct ? call("count", .text("DISTINCT ") + expression.fragment) : call("count", expression.fragment)
}

/// `sum(expr)`. PostgreSQL sums integers as `numeric`, hence `Decimal`; NULL over no rows.
public func sum<E: QueryExpression>(_ expression: E) -> SQLExpression<Decimal?> where E.Value: BinaryInteger {
    call("sum", expression.fragment)
}

/// `sum(expr)` of a floating-point expression.
public func sum<E: QueryExpression>(_ expression: E) -> SQLExpression<Double?> where E.Value == Double {
    call("sum", expression.fragment)
}

/// `min(expr)`; NULL over no rows.
public func min<E: QueryExpression>(_ expression: E) -> SQLExpression<E.Value?> { call("min", expression.fragment) }

/// `max(expr)`; NULL over no rows.
public func max<E: QueryExpression>(_ expression: E) -> SQLExpression<E.Value?> { call("max", expression.fragment) }

/// `avg(expr)` as `numeric`.
public func avg<E: QueryExpression>(_ expression: E) -> SQLExpression<Decimal?> where E.Value: BinaryInteger {
    call("avg", expression.fragment)
}

/// `coalesce(expr, $n)`: the expression, or `fallback` when it is NULL.
public func coalesce<E: QueryExpression, V: PostgresEncodable>(_ expression: E, _ fallback: V) -> SQLExpression<V>
where E.Value == V? {
    call("coalesce", expression.fragment, .bind(fallback))
}

/// `now()`: the transaction's timestamp on the server, so rows written together agree.
/// Type it as the column needs (`now(as: Date?.self)` for a nullable column).
public func now<V>(as type: V.Type = Date.self) -> SQLExpression<V> { SQLExpression(.text("now()")) }

import TenantKitPostgres

// Comparison and logic. Every operator is generic over `QueryExpression` with a `Value` constraint,
// which is what makes `intColumn == "text"` a compile error.

private func compare(_ lhs: SQLFragment, _ op: String, _ rhs: SQLFragment) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(
        parts: lhs.operand(atLeast: .additive).parts + [.text(" \(op) ")] + rhs.operand(atLeast: .additive).parts,
        precedence: .comparison))
}

private func nullTest(_ lhs: SQLFragment, _ test: String) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(parts: lhs.operand(atLeast: .additive).parts + [.text(" \(test)")], precedence: .comparison))
}

// MARK: Equality

/// `lhs = $n`; comparing with `nil` writes `lhs IS NULL`.
public func == <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<Bool> where L.Value: PostgresEncodable {
    rhs.isPostgresNull ? nullTest(lhs.fragment, "IS NULL") : compare(lhs.fragment, "=", .bind(rhs))
}

/// `lhs <> $n`; comparing with `nil` writes `lhs IS NOT NULL`.
public func != <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<Bool> where L.Value: PostgresEncodable {
    rhs.isPostgresNull ? nullTest(lhs.fragment, "IS NOT NULL") : compare(lhs.fragment, "<>", .bind(rhs))
}

/// Two expressions of the same type: `a.id = b.id`.
public func == <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value {
    compare(lhs.fragment, "=", rhs.fragment)
}

/// A non-optional expression and an optional one: `keys.id = runs.api_key_id`.
public func == <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where R.Value == L.Value? {
    compare(lhs.fragment, "=", rhs.fragment)
}

/// An optional expression and a non-optional one.
public func == <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value? {
    compare(lhs.fragment, "=", rhs.fragment)
}

public func != <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value {
    compare(lhs.fragment, "<>", rhs.fragment)
}

// MARK: Ordering comparisons

public func < <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<Bool> where L.Value: PostgresEncodable {
    compare(lhs.fragment, "<", .bind(rhs))
}
public func <= <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<Bool> where L.Value: PostgresEncodable {
    compare(lhs.fragment, "<=", .bind(rhs))
}
public func > <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<Bool> where L.Value: PostgresEncodable {
    compare(lhs.fragment, ">", .bind(rhs))
}
public func >= <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<Bool> where L.Value: PostgresEncodable {
    compare(lhs.fragment, ">=", .bind(rhs))
}
public func < <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value {
    compare(lhs.fragment, "<", rhs.fragment)
}
public func <= <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value {
    compare(lhs.fragment, "<=", rhs.fragment)
}
public func > <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value {
    compare(lhs.fragment, ">", rhs.fragment)
}
public func >= <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<Bool> where L.Value == R.Value {
    compare(lhs.fragment, ">=", rhs.fragment)
}

// MARK: Logic

/// `lhs AND rhs`.
public func && <L: QueryExpression<Bool>, R: QueryExpression<Bool>>(lhs: L, rhs: R) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(
        parts: lhs.fragment.operand(atLeast: .and).parts + [.text(" AND ")] + rhs.fragment.operand(atLeast: .and).parts,
        precedence: .and))
}

/// `lhs OR rhs`; parenthesized wherever it is combined with AND.
public func || <L: QueryExpression<Bool>, R: QueryExpression<Bool>>(lhs: L, rhs: R) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(
        parts: lhs.fragment.parts + [.text(" OR ")] + rhs.fragment.parts,
        precedence: .or))
}

/// `NOT (operand)`.
public prefix func ! <E: QueryExpression<Bool>>(operand: E) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(parts: [.text("NOT (")] + operand.fragment.parts + [.text(")")], precedence: .not))
}

// MARK: Arithmetic

/// `lhs + $n`.
public func + <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<L.Value>
where L.Value: PostgresEncodable & AdditiveArithmetic {
    SQLExpression(SQLFragment(parts: lhs.fragment.operand(atLeast: .additive).parts + [.text(" + ")] + SQLFragment.bind(rhs).parts, precedence: .additive))
}

/// `lhs - $n`.
public func - <L: QueryExpression>(lhs: L, rhs: L.Value) -> SQLExpression<L.Value>
where L.Value: PostgresEncodable & AdditiveArithmetic {
    SQLExpression(SQLFragment(parts: lhs.fragment.operand(atLeast: .additive).parts + [.text(" - ")] + SQLFragment.bind(rhs).parts, precedence: .additive))
}

/// `lhs + rhs`.
public func + <L: QueryExpression, R: QueryExpression>(lhs: L, rhs: R) -> SQLExpression<L.Value>
where L.Value == R.Value, L.Value: AdditiveArithmetic {
    SQLExpression(SQLFragment(parts: lhs.fragment.operand(atLeast: .additive).parts + [.text(" + ")] + rhs.fragment.operand(atLeast: .multiplicative).parts, precedence: .additive))
}

// MARK: Tests on one expression

extension QueryExpression {
    /// `expr IS NULL`.
    public var isNull: SQLExpression<Bool> { nullTest(fragment, "IS NULL") }
    /// `expr IS NOT NULL`.
    public var isNotNull: SQLExpression<Bool> { nullTest(fragment, "IS NOT NULL") }

    /// `expr IN (SELECT ...)`; the subquery is scoped like any other statement.
    public func `in`(_ subquery: Select) -> SQLExpression<Bool> {
        SQLExpression(SQLFragment(
            parts: fragment.operand(atLeast: .additive).parts + [.text(" IN ("), .subquery(subquery), .text(")")],
            precedence: .comparison))
    }

    /// `expr NOT IN (SELECT ...)`. Beware SQL's NULL rules: one NULL in the subquery matches nothing.
    public func notIn(_ subquery: Select) -> SQLExpression<Bool> {
        SQLExpression(SQLFragment(
            parts: fragment.operand(atLeast: .additive).parts + [.text(" NOT IN ("), .subquery(subquery), .text(")")],
            precedence: .comparison))
    }
}

extension QueryExpression where Value: PostgresArrayElement {
    /// `expr = ANY($n)` with the values as one array bind, so the SQL text is the same for any count.
    public func `in`(_ values: [Value]) -> SQLExpression<Bool> {
        SQLExpression(SQLFragment(
            parts: fragment.operand(atLeast: .additive).parts + [.text(" = ANY("), .bind(values), .text(")")],
            precedence: .comparison))
    }

    /// `expr <> ALL($n)`.
    public func notIn(_ values: [Value]) -> SQLExpression<Bool> {
        SQLExpression(SQLFragment(
            parts: fragment.operand(atLeast: .additive).parts + [.text(" <> ALL("), .bind(values), .text(")")],
            precedence: .comparison))
    }
}

extension QueryExpression where Value == String {
    /// `expr LIKE $n` (escape `%` and `_` in user input yourself).
    public func like(_ pattern: String) -> SQLExpression<Bool> { compare(fragment, "LIKE", .bind(pattern)) }
    /// `expr ILIKE $n`, case-insensitive.
    public func ilike(_ pattern: String) -> SQLExpression<Bool> { compare(fragment, "ILIKE", .bind(pattern)) }
    /// `lower(expr)`.
    public var lowercased: SQLExpression<String> { SQLExpression(SQLFragment(parts: [.text("lower(")] + fragment.parts + [.text(")")], precedence: .atom)) }
}

extension QueryExpression where Value == String? {
    /// `expr LIKE $n`.
    public func like(_ pattern: String) -> SQLExpression<Bool> { compare(fragment, "LIKE", .bind(pattern)) }
}

/// `EXISTS (SELECT ...)`.
public func exists(_ subquery: Select) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(.text("EXISTS ("), .subquery(subquery), .text(")")))
}

/// `NOT EXISTS (SELECT ...)`.
public func notExists(_ subquery: Select) -> SQLExpression<Bool> {
    SQLExpression(SQLFragment(parts: [.text("NOT EXISTS ("), .subquery(subquery), .text(")")], precedence: .not))
}

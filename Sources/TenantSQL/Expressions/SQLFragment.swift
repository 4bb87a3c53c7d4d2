import TenantKitPostgres

/// A piece of SQL the builder made: text, quoted names, column references, bind values and
/// subqueries. Values stay values until rendering, where they become `$n` binds.
///
/// Fragments are built only by the typed API (columns, operators, statements), never from strings
/// a caller supplies, so they cannot carry injected SQL.
public struct SQLFragment: Sendable {
    enum Part: Sendable {
        /// SQL text written by the builder itself (keywords, operators, punctuation).
        case text(String)
        /// `"alias"."column"`; `*` is written unquoted.
        case column(TableReference, String)
        /// `"column"` without alias (INSERT column lists, SET targets).
        case bareColumn(String)
        /// A bind parameter.
        case bind(any PostgresEncodable)
        /// A nested SELECT, rendered with its own scoping.
        indirect case subquery(Select)
    }

    var parts: [Part]
    /// How tightly the fragment binds, to know when it needs parentheses.
    var precedence: Precedence

    init(_ parts: Part..., precedence: Precedence = .atom) {
        self.parts = parts
        self.precedence = precedence
    }

    init(parts: [Part], precedence: Precedence) {
        self.parts = parts
        self.precedence = precedence
    }

    static func text(_ sql: String, precedence: Precedence = .atom) -> SQLFragment {
        SQLFragment(.text(sql), precedence: precedence)
    }

    static func bind(_ value: some PostgresEncodable) -> SQLFragment { SQLFragment(.bind(value)) }

    /// This fragment as an operand of an operator that needs at least `minimum`: parenthesized when it binds looser.
    func operand(atLeast minimum: Precedence) -> SQLFragment {
        guard precedence < minimum else { return self }
        return SQLFragment(parts: [.text("(")] + parts + [.text(")")], precedence: .atom)
    }

    /// Joins fragments with SQL text in between.
    static func joined(_ fragments: [SQLFragment], separator: String, precedence: Precedence = .atom) -> SQLFragment {
        var parts: [Part] = []
        for (i, fragment) in fragments.enumerated() {
            if i > 0 { parts.append(.text(separator)) }
            parts += fragment.parts
        }
        return SQLFragment(parts: parts, precedence: precedence)
    }

    static func + (lhs: SQLFragment, rhs: SQLFragment) -> SQLFragment {
        SQLFragment(parts: lhs.parts + rhs.parts, precedence: .atom)
    }

    /// Every table named inside this fragment's subqueries, at any depth.
    var referencedTables: [TableReference] {
        parts.flatMap { part -> [TableReference] in
            if case .subquery(let select) = part { return select.referencedTables }
            return []
        }
    }

    /// Every subquery directly inside this fragment.
    var subqueries: [Select] {
        parts.compactMap { part in
            if case .subquery(let select) = part { return select }
            return nil
        }
    }
}

/// Operator binding strength, loosest first (PostgreSQL's order).
enum Precedence: Int, Comparable, Sendable {
    case or, and, not, comparison, additive, multiplicative, atom
    static func < (a: Precedence, b: Precedence) -> Bool { a.rawValue < b.rawValue }
}

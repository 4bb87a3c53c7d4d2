import TenantKitPostgres

/// Which of TenantKit's constraints a server error reports, on one server and on Citus alike.
///
/// On one server the error carries the constraint's name. A Citus coordinator relays a worker's
/// error with its SQLSTATE, message, detail, hint and context only (no constraint or table), and a
/// shard's constraints carry the shard id (`catalog_items_org_slug_key_102040`). So a TenantKit
/// rule is recognized by its SQLSTATE and its constraint's name, read from the constraint field
/// or, when that is missing, from the message, where PostgreSQL names the constraint in every
/// language and TenantKit's own `RAISE`s name it too (Schema/0020).
struct ConstraintViolation {
    let code: SQLState
    let constraint: String

    static let insufficientCredits = ConstraintViolation(code: .checkViolation, constraint: "ecu_accounts_balance_check")
    static let domainNotVerified = ConstraintViolation(code: .checkViolation, constraint: "org_email_domains_enabled_requires_verified")

    static func duplicate(_ constraint: String) -> ConstraintViolation {
        ConstraintViolation(code: .uniqueViolation, constraint: constraint)
    }

    /// True when `error` is this rule's violation.
    func matches(_ error: PostgresError) -> Bool {
        guard error.code == code else { return false }
        if let reported = error.constraint { return names(reported[...], at: reported.startIndex, whole: true) }
        var searchFrom = error.message.startIndex
        while let found = error.message.range(of: constraint, range: searchFrom..<error.message.endIndex) {
            if names(error.message[...], at: found.lowerBound, whole: false) { return true }
            searchFrom = found.upperBound
        }
        return false
    }

    /// Whether `text` names the constraint at `start`: the name, or the name of one of its shards
    /// (`_<shard id>`), as an identifier of its own (no identifier character around it).
    private func names(_ text: Substring, at start: String.Index, whole: Bool) -> Bool {
        if start > text.startIndex, Self.isIdentifier(text[text.index(before: start)]) { return false }
        guard text[start...].hasPrefix(constraint) else { return false }
        var rest = text[text.index(start, offsetBy: constraint.count)...]
        if rest.first == "_", rest.dropFirst().first?.isASCII == true, rest.dropFirst().first?.isNumber == true {
            rest = rest.dropFirst().drop { $0.isASCII && $0.isNumber }
        }
        return whole ? rest.isEmpty : !(rest.first.map(Self.isIdentifier) ?? false)
    }

    private static func isIdentifier(_ c: Character) -> Bool { c == "_" || c == "$" || (c.isASCII && (c.isLetter || c.isNumber)) }
}

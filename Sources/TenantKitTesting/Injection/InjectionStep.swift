import Foundation

/// One step of an ``InjectionAttack``. Steps run in order on the attack's pool (one connection, so
/// state an earlier step leaves on it reaches the later ones); a refused step does not stop the attack.
public enum InjectionStep: Sendable {
    /// One statement as its own unit of work, the way an injection arrives:
    /// `scope.query(PostgresQuery(unsafeSQL: sql))`.
    case statement(String)
    /// Statements in one `scope.transaction { tx in try await tx.query(PostgresQuery(unsafeSQL: sql)) }`,
    /// in order; the first refusal ends it.
    case transaction([String])
    /// Swift that carries the attack on: TenantKit's unmodified API used after the SQL, or work that
    /// needs concurrency (a victim blocked by the attacker). `typed` is the SQL it sends for the
    /// attacker (its echoes are not leaks); it returns the texts the attacker got back, which are
    /// scanned for B's secrets. Throw ``InjectionBreach`` for what a scan cannot see.
    case swift(String, typed: [String] = [], @Sendable (InjectionContext) async throws -> [String])
    /// An oracle: the statements run twice in a transaction that is rolled back, with `{{probe}}`
    /// set to a value of B (`secret`) and to a `decoy`. Any difference in outcome is a leak.
    case oracle(statements: [String], secret: String, decoy: String)

    /// A short description for reports.
    var summary: String {
        func short(_ sql: String) -> String {
            let line = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            return line.count > 90 ? String(line.prefix(87)) + "..." : line
        }
        switch self {
        case .statement(let sql): return "statement `\(short(sql))`"
        case .transaction(let sqls): return "transaction of \(sqls.count): `\(short(sqls.joined(separator: "; ")))`"
        case .swift(let name, _, _): return "swift: \(name)"
        case .oracle(let statements, _, _): return "oracle `\(short(statements.joined(separator: "; ")))`"
        }
    }
}

extension Array where Element == InjectionStep {
    /// Several statements, each its own unit of work: `steps: .statements("...", "...")`.
    public static func statements(_ sqls: String...) -> [InjectionStep] { sqls.map { .statement($0) } }
}

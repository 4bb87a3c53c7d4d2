import Foundation

/// One attack of the corpus: SQL an injection could carry, run as each of its ``attackers`` inside
/// that attacker's own legitimate scope, with the finding of the review it reproduces.
///
/// ```swift
/// InjectionAttack("set_config to B's org, then read B", finding: .bearerContext, steps: [
///     .transaction([
///         "SELECT set_config('tenantkit.org_id', '{{org_b}}', true)",
///         "SELECT name, settings FROM organizations",
///     ]),
/// ])
/// ```
///
/// `{{name}}` in the SQL is what the attacker knows (``InjectionWorld/placeholders(for:database:)``).
public struct InjectionAttack: Sendable, Identifiable {
    /// What a correct schema and driver do with the attack.
    public enum Expectation: Sendable, Equatable, CustomStringConvertible {
        /// Nothing of B is seen or changed, nothing is left on the connection, victims are unaffected.
        case contained
        /// A known limit of one shared application role (issue 10, item 13), or of PostgreSQL itself:
        /// reported, but not a failure of ``InjectionReport/requireContained()``.
        case residual(String)

        public var description: String {
            switch self {
            case .contained: "contained"
            case .residual(let why): "residual (\(why))"
            }
        }
    }

    /// What the attack does, in a sentence.
    public let name: String
    /// The finding of the review it reproduces.
    public let finding: InjectionFinding
    /// Who tries it; each attacker gets a fresh world.
    public let attackers: [InjectionAttacker]
    /// Contained, or a known residual.
    public let expectation: Expectation
    /// What the attacker runs, in order.
    public let steps: [InjectionStep]
    /// Checks run for victims after the attack, in addition to the suite's own.
    public let victimChecks: [InjectionVictimCheck]

    public var id: String { name }

    /// An attack; by default tried by an admin and by a viewer of A, and expected to be contained.
    public init(
        _ name: String,
        finding: InjectionFinding,
        attackers: [InjectionAttacker] = [.adminOfA, .viewerOfA],
        expectation: Expectation = .contained,
        victimChecks: [InjectionVictimCheck] = [],
        steps: [InjectionStep]
    ) {
        self.name = name
        self.finding = finding
        self.attackers = attackers
        self.expectation = expectation
        self.steps = steps
        self.victimChecks = victimChecks
    }

    /// The SQL the attacker types, before substitution (echoes of it in results are not leaks).
    var typedSQL: [String] {
        steps.flatMap { step -> [String] in
            switch step {
            case .statement(let sql): [sql]
            case .transaction(let sqls): sqls
            case .oracle(let statements, let secret, let decoy): statements + [secret, decoy]
            case .swift(_, let typed, _): typed
            }
        }
    }
}

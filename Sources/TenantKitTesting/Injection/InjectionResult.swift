import Foundation

/// What one attack did as one attacker: each step's outcome, and everything that was not contained.
public struct InjectionResult: Sendable, CustomStringConvertible {
    /// The attack's name, finding, attacker and expectation.
    public let attack: String
    public let finding: InjectionFinding
    public let attacker: InjectionAttacker
    public let expectation: InjectionAttack.Expectation
    /// Each step and what became of it (`ok, 3 rows` or `refused: 42501 permission denied ...`).
    public let steps: [Step]
    /// B's secrets the attacker saw (in a result cell or an error), and oracle answers that differed.
    public let leaks: [String]
    /// What changed in the protected snapshot.
    public let changes: [DatabaseSnapshot.Difference]
    /// Session state left on the pooled connection for its next lease.
    public let residue: [String]
    /// Victims (B on the same pool, B's API key, blocked or killed backends) who were affected, and
    /// breaches a Swift step observed (``InjectionBreach``).
    public let victimProblems: [String]
    /// The suite itself failed to run the attack (setup, snapshot); never counts as contained.
    public let harnessError: String?
    /// What a shared world needed put back after the attack (the attacker's own org's writes, a
    /// victim check's): state the attack was allowed to change. Empty with a fresh world per attack.
    public let worldRestored: [String]
    /// How long the run took, world copy and snapshots included.
    public let duration: Duration

    /// One step's outcome.
    public struct Step: Sendable, CustomStringConvertible {
        /// The step, shortened.
        public let summary: String
        /// `ok: SELECT 3, 3 row(s)`, `refused: 42501 ...`, `did not finish within ...`.
        public let outcome: String
        public var description: String { "\(summary): \(outcome)" }
    }

    /// Nothing of B seen or changed, nothing left behind, no victim affected.
    public var isContained: Bool {
        leaks.isEmpty && changes.isEmpty && residue.isEmpty && victimProblems.isEmpty && harnessError == nil
    }

    /// Not contained although it should have been (or the suite could not run it).
    public var isFailure: Bool {
        if harnessError != nil { return true }
        return !isContained && expectation == .contained
    }

    /// Everything not contained, one line each.
    public var breaches: [String] {
        leaks.map { "leak: \($0)" } + changes.map { "changed: \($0)" } + residue.map { "left on the connection: \($0)" }
            + victimProblems.map { "victim: \($0)" } + (harnessError.map { ["suite error: \($0)"] } ?? [])
    }

    public var description: String {
        var lines = ["\(attack) [\(finding.label), \(attacker)]: \(isContained ? "contained" : "BREACHED")"
                     + (expectation == .contained ? "" : " (expected: \(expectation))")]
        lines += breaches.map { "  - \($0)" }
        lines += steps.map { "    step \($0)" }
        if !worldRestored.isEmpty { lines.append("    restored afterwards: " + worldRestored.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }
}

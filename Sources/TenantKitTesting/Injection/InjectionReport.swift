import Foundation

/// The outcome of an ``InjectionSuite`` run: one ``InjectionResult`` per attack and attacker.
///
/// ```swift
/// let report = try await suite.run()
/// print(report.table)              // every attack: contained or breached, and how
/// try report.requireContained()    // throws a readable report of each breach
/// ```
public struct InjectionReport: Sendable, CustomStringConvertible {
    /// One result per attack and attacker, in corpus order.
    public let results: [InjectionResult]
    /// Wall-clock time of the whole run.
    public let duration: Duration

    /// Attacks that should have been contained and were not (or could not be run).
    public var failures: [InjectionResult] { results.filter(\.isFailure) }
    /// Breaches of attacks whose expectation is ``InjectionAttack/Expectation/residual(_:)``.
    public var residualBreaches: [InjectionResult] { results.filter { !$0.isContained && !$0.isFailure } }
    /// Every result of one attack, by name.
    public func results(for attack: String) -> [InjectionResult] { results.filter { $0.attack == attack } }

    /// Throws ``InjectionContainmentError`` naming every attack that breached containment: its
    /// finding, the attacker, and what leaked, changed or was left behind.
    public func requireContained() throws {
        let failures = failures
        guard failures.isEmpty else { throw InjectionContainmentError(failures: failures, report: self) }
    }

    /// A Markdown table: attack, finding, attacker, expectation, outcome.
    public var table: String {
        var lines = ["| attack | finding | attacker | expected | outcome |", "| --- | --- | --- | --- | --- |"]
        for r in results {
            let expected = r.expectation == .contained ? "contained" : "residual"
            let outcome = r.isContained ? "contained" : "**breached**: " + Self.kinds(r)
            lines.append("| \(r.attack) | \(r.finding.label) | \(r.attacker) | \(expected) | \(outcome) |")
        }
        return lines.joined(separator: "\n")
    }

    public var description: String {
        let breached = results.filter { !$0.isContained }.count
        var lines = ["injection suite: \(results.count) attack runs, \(results.count - breached) contained, \(breached) breached "
                     + "(\(failures.count) failures, \(residualBreaches.count) residual), in \(duration)"]
        lines += results.filter { !$0.isContained }.map(\.description)
        return lines.joined(separator: "\n")
    }

    /// `leak, changed, residue, victim`, for the table.
    static func kinds(_ r: InjectionResult) -> String {
        var kinds: [String] = []
        if !r.leaks.isEmpty { kinds.append("leak") }
        if !r.changes.isEmpty { kinds.append("changed " + r.changes.map(\.section).prefix(2).joined(separator: ", ")) }
        if !r.residue.isEmpty { kinds.append("residue") }
        if !r.victimProblems.isEmpty { kinds.append("victim") }
        if r.harnessError != nil { kinds.append("suite error") }
        return kinds.joined(separator: "; ")
    }
}

/// Thrown by ``InjectionReport/requireContained()``: every attack that breached containment, readably.
public struct InjectionContainmentError: Error, Sendable, CustomStringConvertible {
    /// The attack runs that were not contained.
    public let failures: [InjectionResult]
    /// The whole report, contained runs included.
    public let report: InjectionReport

    public var description: String {
        (["\(failures.count) of \(report.results.count) injection attack runs were not contained:"]
         + failures.map(\.description)).joined(separator: "\n")
    }
}

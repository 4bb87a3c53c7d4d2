/// The attacks: every finding class of the SQL-injection review (issue 10) and techniques of the
/// suite's own, as SQL an injection carries inside its attacker's scope (`{{name}}`: what the
/// attacker knows, see ``InjectionWorld/placeholders(for:database:)``).
///
/// ```swift
/// var suite = InjectionSuite(makeScope: ..., makeStore: ...)
/// suite.corpus = InjectionCorpus.all.filter { $0.finding == .poolPoisoning }
/// ```
public enum InjectionCorpus {
    /// Every attack, by finding.
    public static var all: [InjectionAttack] {
        definerShadowing + bearerContext + poolPoisoning + apiKeys + triggerOracles + users + audit + credits
            + roles + domains + staleStanding + sharedConnection + sideChannels + ownTechniques
    }
}

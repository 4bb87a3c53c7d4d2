/// The finding of the SQL-injection review (issue 10) an attack reproduces, or an attack of our own
/// beyond it.
public enum InjectionFinding: Int, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    /// Not one of the review's findings: a technique added by the suite.
    case beyondTheReview = 0
    /// 1: a SECURITY DEFINER function resolves relations in the caller's `pg_temp` and runs a payload as the owner.
    case definerTempShadowing = 1
    /// 2: the org context is a bearer value (`set_config`), and the entry points trust their user argument.
    case bearerContext = 2
    /// 3: session state (temp objects, settings, statements) left on a pooled connection for the next lease.
    case poolPoisoning = 3
    /// 4: API-key hashes and prefixes unique only per org; another org's candidates are readable.
    case apiKeyHijack = 4
    /// 5: triggers that do cross-org work before the policy rejects the row (oracles, held locks).
    case triggerOracles = 5
    /// 6: `users` is global: readable and writable from any org.
    case globalUsers = 6
    /// 7: the audit chain can be rewritten and its actors forged.
    case auditChain = 7
    /// 8: credits minted, runs without their debit.
    case mintedCredits = 8
    /// 9: roles are checked only in Swift; a viewer with an injection escalates.
    case rolesOnlyInSwift = 9
    /// 10: domain auto-join without proof, and lookalikes that case folding merges.
    case domainAutoJoin = 10
    /// 11: a removed member (or a revoked key) keeps reading.
    case removedMemberReads = 11
    /// 12: a transaction's context lives on the shared connection.
    case sharedConnectionTransaction = 12
    /// 13: side channels of one shared role (`pg_stat_activity`, `pg_terminate_backend`, advisory locks).
    case sameRoleSideChannels = 13

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `#4` for a finding of the review, `own` for the suite's additions.
    public var label: String { self == .beyondTheReview ? "own" : "#\(rawValue)" }

    /// The finding's number and title.
    public var description: String {
        switch self {
        case .beyondTheReview: "beyond the review"
        case .definerTempShadowing: "#1 pg_temp shadowing of definer functions"
        case .bearerContext: "#2 bearer org context and trusting entry points"
        case .poolPoisoning: "#3 pool poisoning"
        case .apiKeyHijack: "#4 API-key hijack"
        case .triggerOracles: "#5 trigger oracles and held locks"
        case .globalUsers: "#6 global users"
        case .auditChain: "#7 audit chain"
        case .mintedCredits: "#8 minted credits"
        case .rolesOnlyInSwift: "#9 roles only in Swift"
        case .domainAutoJoin: "#10 domain auto-join"
        case .removedMemberReads: "#11 removed members keep reading"
        case .sharedConnectionTransaction: "#12 transaction context on a shared connection"
        case .sameRoleSideChannels: "#13 same-role side channels"
        }
    }
}

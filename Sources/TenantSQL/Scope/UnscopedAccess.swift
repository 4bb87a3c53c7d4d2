import Foundation
import TenantKitPostgres

/// Access to every organization's rows at once, for platform operators only (curating the public
/// catalog, support investigations). Its use is written to the audit log.
///
/// Statements rendered through it get no organization predicates and INSERT stamps nothing. The
/// database still applies row-level security to the role you connect as: this is meant for the
/// owner role (which owns, and alone writes, the public catalog) or an operator role with `BYPASSRLS`.
///
/// Every call appends one `audit_log` row, in the same transaction and round trip as the work:
/// action `tenantkit.unscoped_access`, target the tables named, details `{"reason", "sql"}` (the
/// SQL text only: binds are never logged). `audit_log` keeps one hash chain per organization and
/// needs an org id, so the access names the organization whose log records it (for example the
/// platform operator's own organization). If the work fails, its audit row rolls back with it.
///
/// ```swift
/// let curator = try UnscopedAccess(
///     unsafelyBypassingOrgScopeFor: "curate public catalog (ticket OPS-112)",
///     auditedIn: platformOrgID, actor: .platformOperator(operatorID), context: signedContext, on: operatorPool)
/// let items = PublicCatalogItemsTable.table
/// try await curator.execute(Insert.into(items).values(items.kind.set("model"), items.slug.set("gpt"), items.name.set("GPT")))
/// ```
public struct UnscopedAccess: StatementExecutor {
    /// Why the scope is bypassed; stored in the audit row.
    public let reason: String
    /// The organization whose audit log records the access.
    public let auditOrgID: UUID
    public let actor: OrgScope.Actor
    /// What establishes the actor's context, and where the audit entry goes.
    public let context: any TenantContext
    let host: any OrgScopeHost

    /// The audit row's action.
    public static let auditAction = "tenantkit.unscoped_access"

    /// Grants unscoped access; `reason` must say why (it is audited).
    public init(
        unsafelyBypassingOrgScopeFor reason: String,
        auditedIn auditOrgID: UUID,
        actor: OrgScope.Actor,
        context: some TenantContext,
        on host: some OrgScopeHost
    ) throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw TenantSQLError(.missingReason, "unscoped access needs a reason for the audit log")
        }
        self.reason = reason
        self.auditOrgID = auditOrgID
        self.actor = actor
        self.context = context
        self.host = host
    }

    public func render(_ statement: some Statement) throws -> PostgresQuery {
        try SQLRenderer.render(statement, mode: .unscoped)
    }

    /// Runs builder statements (audited once, with all their tables as the target).
    public func query<S: Statement>(_ statement: S) async throws -> PostgresRows {
        let target = Set(statement.referencedTables.map(\.name)).sorted().joined(separator: ",")
        return try await run([render(statement)], target: target)[0]
    }

    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await run([query], target: "sql")[0]
    }

    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        try await run(queries, target: "sql")
    }

    private func run(_ queries: [PostgresQuery], target: String) async throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        let audit = context.auditStatement(
            orgID: auditOrgID, action: UnscopedAccess.auditAction, target: target,
            details: ["reason": reason, "sql": queries.map(\.sql).joined(separator: ";\n")])
        // The audit row is appended as the audited org (its policies and chain need it); the work
        // then runs with no organization set, keeping the actor.
        let (context, orgID, actor) = (context, auditOrgID, actor)
        let prelude: @Sendable (Int32) throws -> [PostgresQuery] = { pid in
            try context.statements(orgID: orgID, actor: actor, backendPID: pid) + [audit]
                + context.statements(orgID: nil, actor: actor, backendPID: pid)
        }
        return try await host.run(queries, after: prelude, inTransactionBlock: context.requiresTransactionBlock)
    }
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// The active organization's audit log: append-only, hash-chained, one sequence per organization.
/// Entries are written by the repositories in the same transaction as the change they record; the
/// actor comes from the scope (user or API key).
public struct AuditRepository: Sendable {
    let scope: OrgScope

    /// Entries, newest first, `limit` at a time.
    public func page(_ filter: AuditFilter = AuditFilter(), after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<AuditEntry> {
        let limit = try checkedPageLimit(limit, "entries")
        let seq = try cursor.map { try CursorKey.int64($0.keys(of: "audit", count: 1)[0], "audit") }
        let a = AuditLogTable.table
        var select = Select.from(a).columns(a.columns(excluding: a.orgID, a.prevHash, a.hash, a.chainVersion))
        if let user = filter.actorUserID { select = select.where(a.actorUserID == user) }
        if let key = filter.actorAPIKeyID { select = select.where(a.actorAPIKeyID == key) }
        if let action = filter.action { select = select.where(a.action == action) }
        if let from = filter.from { select = select.where(a.occurredAt >= from) }
        if let until = filter.until { select = select.where(a.occurredAt < until) }
        let entries = try await scope.fetchAll(select.keysetPage(by: a.seq, after: seq, descending: true, limit: limit), as: AuditEntry.self)
        let next = entries.count == limit ? entries.last.map { PageCursor(listing: "audit", keys: [CursorKey.text($0.seq)]) } : nil
        return Page(items: entries, next: next)
    }

    /// Recomputes the organization's hash chain in the database and reports the first broken link.
    ///
    /// This finds edits made without the audit key and breaks left behind; a rewrite re-chained
    /// by someone who controls the database's owner (and so can read the key) verifies here:
    /// keep ``checkpoint()``s elsewhere and use ``verifyChain(against:)`` for that.
    public func verifyChain() async throws -> AuditChainStatus {
        let rows = try await scope.pipeline([
            "SELECT tenantkit_audit_verify()",
            "SELECT count(*) FROM audit_log",
        ] as [PostgresQuery])
        let broken = try rows[0][0].decode(Int64?.self, at: 0)
        if let broken { return .brokenAt(seq: broken) }
        return .intact(entries: try rows[1][0].decode(Int64.self, at: 0))
    }

    /// The organization's chain head, signed by the database with its audit key: store it outside
    /// the database and verify against it later. Fails with SQLSTATE TK011 when the head does not
    /// match the last entry (the chain is already broken: verify it against an earlier checkpoint).
    public func checkpoint() async throws -> AuditCheckpoint {
        try await scope.fetchOne("SELECT org_id, seq, head, signature FROM tenantkit_audit_checkpoint()", as: AuditCheckpoint.self)
    }

    /// Verifies the organization's whole chain and, against `checkpoint`, that the entries up to
    /// its seq are still the ones it was taken of and that none were deleted from the end.
    ///
    /// The database recomputes every hash with the audit key; the head at the checkpoint's seq
    /// is also compared here, on the client, with the entry as stored.
    public func verifyChain(against checkpoint: AuditCheckpoint) async throws -> AuditChainStatus {
        guard checkpoint.orgID == scope.orgID else {
            throw TenantError.invalidInput("the checkpoint is of another organization")
        }
        let a = AuditLogTable.table
        let rows = try await scope.pipeline([
            "SELECT status, seq, entries FROM tenantkit_audit_verify_checkpoint(\(checkpoint.orgID), \(checkpoint.seq), \(checkpoint.head), \(checkpoint.signature))",
            try scope.render(Select.from(a).columns(a.hash).where(a.seq == checkpoint.seq)),
        ] as [PostgresQuery])
        struct Verdict: Decodable { let status: String; let seq: Int64?; let entries: Int64? }
        guard let verdict = try rows[0].first?.decode(as: Verdict.self) else {
            throw PostgresClientError(.noRows, "tenantkit_audit_verify_checkpoint returned no rows")
        }
        let status: AuditChainStatus
        switch (verdict.status, verdict.seq, verdict.entries) {
        case ("intact", _, let entries?): status = .intact(entries: entries)
        case ("broken", let seq?, _): status = .brokenAt(seq: seq)
        case ("rewritten", let seq?, _): status = .rewritten(at: seq)
        case ("truncated", let seq?, let entries?): status = .truncated(expected: seq, found: entries)
        case ("invalid_checkpoint", _, _): return .invalidCheckpoint
        default: throw PostgresClientError(.protocolError, "unknown audit chain status \(verdict.status)")
        }
        // The database said the head at the checkpoint's seq matches; the entry as stored must agree.
        if case .intact(let entries) = status, checkpoint.seq > 0 {
            guard let stored = try rows[1].first?.decode(as: Data.self) else {
                return .truncated(expected: checkpoint.seq, found: min(entries, checkpoint.seq - 1))
            }
            if stored != checkpoint.head { return .rewritten(at: checkpoint.seq) }
        }
        return status
    }

    /// The INSERT of an entry; the database stamps org, actor, sequence number and hashes.
    static func entry(_ action: String, target: String?, details: [String: String]) -> Insert {
        let a = AuditLogTable.table
        return Insert.into(a).values(a.action.set(action), a.target.set(target), a.details(as: [String: String].self).set(JSONB(details)))
    }
}

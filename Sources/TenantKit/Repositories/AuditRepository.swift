import Foundation
import Postgres
import TenantSQL

/// One audit log entry. `seq` counts the organization's entries from 1 without gaps.
public struct AuditEntry: Codable, Sendable, Equatable {
    public let seq: Int64
    public let occurredAt: Date
    public let actorUserID: UUID?
    public let actorAPIKeyID: UUID?
    public let action: String
    public let target: String?
    public let details: [String: String]
}

/// Which entries to list; every field narrows the list.
public struct AuditFilter: Sendable {
    public var actorUserID: UUID?
    public var actorAPIKeyID: UUID?
    public var action: String?
    public var from: Date?
    public var until: Date?

    public init(actorUserID: UUID? = nil, actorAPIKeyID: UUID? = nil, action: String? = nil, from: Date? = nil, until: Date? = nil) {
        self.actorUserID = actorUserID
        self.actorAPIKeyID = actorAPIKeyID
        self.action = action
        self.from = from
        self.until = until
    }
}

/// The result of checking an organization's hash chain.
public enum AuditChainStatus: Sendable, Equatable {
    case intact(entries: Int64)
    /// The first entry whose sequence number, link or hash does not check out.
    case brokenAt(seq: Int64)
}

/// The active organization's audit log: append-only, hash-chained, one sequence per organization.
/// Entries are written by the repositories in the same transaction as the change they record; the
/// actor comes from the scope (user or API key).
public struct AuditRepository: Sendable {
    let scope: OrgScope

    /// Entries, newest first, `limit` at a time; pass the last seen `seq` to continue.
    public func list(_ filter: AuditFilter = AuditFilter(), before seq: Int64? = nil, limit: Int = 50) async throws -> [AuditEntry] {
        guard (1...500).contains(limit) else { throw TenantError.invalidInput("a page holds 1 to 500 entries") }
        let a = AuditLogTable.table
        var select = Select.from(a).columns(a.seq, a.occurredAt, a.actorUserID, a.actorAPIKeyID, a.action, a.target,
                                            a.details(as: [String: String].self))
        if let user = filter.actorUserID { select = select.where(a.actorUserID == user) }
        if let key = filter.actorAPIKeyID { select = select.where(a.actorAPIKeyID == key) }
        if let action = filter.action { select = select.where(a.action == action) }
        if let from = filter.from { select = select.where(a.occurredAt >= from) }
        if let until = filter.until { select = select.where(a.occurredAt < until) }
        return try await scope.fetchAll(select.keysetPage(by: a.seq, after: seq, descending: true, limit: limit), as: AuditEntry.self)
    }

    /// Recomputes the organization's hash chain in the database and reports the first broken link.
    public func verifyChain() async throws -> AuditChainStatus {
        let rows = try await scope.pipeline([
            "SELECT tenantkit_audit_verify()",
            "SELECT count(*) FROM audit_log",
        ] as [PostgresQuery])
        let broken = try rows[0][0].decode(Int64?.self, at: 0)
        if let broken { return .brokenAt(seq: broken) }
        return .intact(entries: try rows[1][0].decode(Int64.self, at: 0))
    }

    /// The INSERT of an entry; the database stamps org, actor, sequence number and hashes.
    static func entry(_ action: String, target: String?, details: [String: String]) -> Insert {
        let a = AuditLogTable.table
        return Insert.into(a).values(a.action.set(action), a.target.set(target), a.details(as: [String: String].self).set(JSONB(details)))
    }
}

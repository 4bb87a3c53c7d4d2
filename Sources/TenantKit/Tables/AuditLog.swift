import Foundation
import TenantKitPostgres
import TenantSQL

/// `audit_log`: append-only and hash-chained per organization. Insert `action`, `target` and
/// `details`; the trigger assigns `seq`, `occurred_at`, `prev_hash`, `hash` and `chain_version`,
/// and the actor columns are the scope's verified actor. UPDATE and DELETE are rejected by the
/// database.
public struct AuditLogTable: DeclaredTable {
    public static let tableName = "audit_log"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var seq: Column<Int64> { column("seq") }
    public var occurredAt: Column<Date> { column("occurred_at") }
    public var actorUserID: Column<UUID?> { column("actor_user_id") }
    public var actorAPIKeyID: Column<UUID?> { column("actor_api_key_id") }
    public var action: Column<String> { column("action") }
    public var target: Column<String?> { column("target") }
    /// The details object, decoded as `T`.
    public func details<T: Codable & Sendable>(as type: T.Type) -> Column<JSONB<T>> { column("details") }
    public var prevHash: Column<Data> { column("prev_hash") }
    public var hash: Column<Data> { column("hash") }
    /// 1 for entries hashed with plain SHA-256 (before Schema/0015), 2 for the keyed HMAC chain.
    public var chainVersion: Column<Int16> { column("chain_version") }

    public var columns: [any DeclaredColumn] { [orgID, seq, occurredAt, actorUserID, actorAPIKeyID, action, target, details(as: JSONObject.self), prevHash, hash, chainVersion] }
}

import Foundation
import Postgres
import TenantSQL

/// The tenant context TenantKit's schema trusts: a claim signed with a ``TenantContextKey``,
/// naming the principal, the organization and the backend it is for, valid for a short time.
///
/// The claim is sent as a bind of `set_config('tenantkit.claim', $1, true)`, so it never appears
/// in SQL text (`pg_stat_activity`, logs) and one prepared statement serves every claim. The
/// database's `tenantkit.current_org()` returns the org only while the claim verifies and the
/// user is still a member (or the key unrevoked). An API key's claim also carries the hash of the
/// key as presented, and its context statement fails with SQLSTATE TK007 when the key is unknown
/// or revoked, in the same round trip as the work.
public struct SignedTenantContext: TenantContext {
    public let key: TenantContextKey
    /// How long a claim stays valid after it is signed (it is signed per unit of work).
    public let lifetime: Duration

    public init(key: TenantContextKey, lifetime: Duration = .seconds(120)) {
        self.key = key
        self.lifetime = lifetime
    }

    public func statement(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> PostgresQuery {
        let claim = self.claim(orgID: orgID, actor: actor, backendPID: backendPID)
        if case .apiKey = actor {
            return "SELECT set_config('tenantkit.claim', \(claim), true), tenantkit_use_api_key()"
        }
        return "SELECT set_config('tenantkit.claim', \(claim), true)"
    }

    public func auditStatement(orgID: UUID, action: String, target: String, details: [String: String]) -> PostgresQuery {
        "INSERT INTO audit_log (org_id, action, target, details) VALUES (\(orgID), \(action), \(target), \(JSONB(details)))"
    }

    /// The claim for `actor` in `orgID` on backend `backendPID` (layout in Schema/0012).
    func claim(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32, now: Date = Date()) -> String {
        let zeros32 = String(repeating: "0", count: 32), zeros64 = String(repeating: "0", count: 64)
        let (kind, principal, proof): (String, UUID, String) = switch actor {
        case .user(let id): ("1", id, zeros64)
        case .apiKey(let id, let hash): ("2", id, hexString(hash))
        case .platformOperator(let id): ("3", id, zeros64)
        }
        let expiry = UInt64(now.timeIntervalSince1970) + UInt64(lifetime.components.seconds)
        let payload = "1" + kind + key.id + Self.hex(principal) + (orgID.map(Self.hex) ?? zeros32) + proof
            + TenantContextKey.hex(UInt64(UInt32(bitPattern: backendPID)), width: 8) + TenantContextKey.hex(expiry, width: 10)
        return payload + key.mac(Array(payload.utf8))
    }

    /// A uuid as 32 lowercase hex digits.
    static func hex(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { hexString($0) }
    }
}

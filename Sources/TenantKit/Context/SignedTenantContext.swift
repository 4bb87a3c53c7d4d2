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
        let expiry = UInt64(now.timeIntervalSince1970) + UInt64(lifetime.components.seconds)
        return String(unsafeUninitializedCapacity: Self.claimLength) { buffer in
            var claim = HexWriter(buffer)
            claim.ascii(UInt8(ascii: "1"))
            switch actor {
            case .user(let id): claim.ascii(UInt8(ascii: "1")); claim.ascii(key.id); claim.hex(id)
            case .apiKey(let id, _): claim.ascii(UInt8(ascii: "2")); claim.ascii(key.id); claim.hex(id)
            case .platformOperator(let id): claim.ascii(UInt8(ascii: "3")); claim.ascii(key.id); claim.hex(id)
            }
            if let orgID { claim.hex(orgID) } else { claim.zeros(32) }
            if case .apiKey(_, let hash) = actor { claim.hex(hash) } else { claim.zeros(64) }
            claim.hex(UInt64(UInt32(bitPattern: backendPID)), digits: 8)
            claim.hex(expiry, digits: 10)
            precondition(claim.count == Self.signedLength, "a claim's signed part is \(Self.signedLength) digits")
            key.writeMAC(of: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<Self.signedLength])),
                         into: UnsafeMutableBufferPointer(rebasing: buffer[Self.signedLength...]))
            return Self.claimLength
        }
    }

    /// A claim's length in hex digits, and the length of the part its MAC covers.
    static let claimLength = 220, signedLength = 156

    /// A uuid as 32 lowercase hex digits.
    static func hex(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { hexString($0) }
    }
}

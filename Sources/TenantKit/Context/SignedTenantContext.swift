import Foundation
import TenantKitPostgres
import TenantSQL

/// The tenant context TenantKit's schema trusts: a claim signed with a ``TenantContextKey``,
/// naming the principal, the organization and the backend it is for, valid for a short time.
///
/// On one server the claim is sent as a bind of `set_config('tenantkit.claim', $1, true)`
/// (``Transport/setConfig``), so it never appears in SQL text (`pg_stat_activity`, logs) and one
/// prepared statement serves every claim. On Citus it is `SET LOCAL` inside `BEGIN` ... `COMMIT`
/// (``Transport/setLocal``), the only form Citus forwards to its workers. The
/// database's `tenantkit.current_org()` returns the org only while the claim verifies and the
/// user is still a member (or the key unrevoked). An API key's claim also carries the hash of the
/// key as presented, and its context statement fails with SQLSTATE TK007 when the key is unknown
/// or revoked, in the same round trip as the work (with ``Transport/setConfig`` it also records the
/// key's use, at most once a minute; with ``Transport/setLocal`` it only checks the key).
public struct SignedTenantContext: TenantContext {
    public let key: TenantContextKey
    /// How long a claim stays valid after it is signed (it is signed per unit of work).
    public let lifetime: Duration

    /// How the claim reaches the database.
    public let transport: Transport

    /// How a scope sends its claim.
    public enum Transport: Sendable, Equatable {
        /// `SELECT set_config('tenantkit.claim', $1, true)` in the pipeline's implicit transaction:
        /// one cached statement for every claim, the claim only ever a bind. For one server.
        case setConfig
        /// `BEGIN; SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL tenantkit.claim =
        /// '...'`, the work, `COMMIT`, in one pipeline: Citus sends `SET LOCAL` (never `set_config`)
        /// to every worker the transaction reaches. The claim is spliced into the text, which only
        /// its fixed hex alphabet makes safe (``ClaimLiteral`` checks it). Works on one server too.
        case setLocal
    }

    public init(key: TenantContextKey, lifetime: Duration = .seconds(120), transport: Transport = .setConfig) {
        self.key = key
        self.lifetime = lifetime
        self.transport = transport
    }

    /// The claim's statement alone; with ``Transport/setLocal`` a scope also needs the rest of
    /// ``statements(orgID:actor:backendPID:)`` and a transaction block.
    public func statement(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> PostgresQuery {
        let claim = self.claim(orgID: orgID, actor: actor, backendPID: backendPID)
        switch transport {
        case .setConfig:
            if case .apiKey = actor {
                return "SELECT set_config('tenantkit.claim', \(claim), true), tenantkit_use_api_key()"
            }
            return "SELECT set_config('tenantkit.claim', \(claim), true)"
        case .setLocal:
            return try ClaimLiteral(claim).setLocal
        }
    }

    public func statements(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> [PostgresQuery] {
        let claim = try statement(orgID: orgID, actor: actor, backendPID: backendPID)
        guard transport == .setLocal else { return [claim] }
        // The API-key check reads the claim SET LOCAL just made, in the same transaction. It
        // writes nothing: on Citus the owner's write to `api_keys` (a reference table) would make
        // the transaction's later reads of reference tables beside the org's shards fail, so the
        // key's use is recorded apart (TenantStore.withAPIKey, authenticate).
        let keyCheck: [PostgresQuery] = if case .apiKey = actor { ["SELECT tenantkit_check_api_key()"] } else { [] }
        return ["SET LOCAL citus.propagate_set_commands = 'local'", claim] + keyCheck
    }

    public var requiresTransactionBlock: Bool { transport == .setLocal }

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

/// A claim checked to be exactly ``SignedTenantContext/claimLength`` lowercase hex digits: the one
/// piece of text TenantKit splices into SQL, for ``SignedTenantContext/Transport/setLocal``.
struct ClaimLiteral: Sendable, Equatable {
    let text: String

    /// Throws ``TenantError/invalidInput(_:)`` naming the problem for anything but a well-formed claim.
    init(_ claim: String) throws {
        guard claim.utf8.count == SignedTenantContext.claimLength else {
            throw TenantError.invalidInput("a tenant claim has \(SignedTenantContext.claimLength) hex digits, not \(claim.utf8.count)")
        }
        guard claim.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else {
            throw TenantError.invalidInput("a tenant claim holds lowercase hex digits only")
        }
        text = claim
    }

    /// `SET LOCAL tenantkit.claim = '...'`, sent unnamed: every claim differs, so caching it would
    /// only evict statements worth keeping. Static text (no reset of the connection afterwards):
    /// nothing but checked hex digits went into it.
    var setLocal: PostgresQuery {
        PostgresQuery(trustedSQL: "SET LOCAL tenantkit.claim = '" + text + "'").uncached()
    }
}

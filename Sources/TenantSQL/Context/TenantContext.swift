import Foundation
import TenantKitPostgres

/// How a scope tells the database which principal acts in which organization.
///
/// The builder's `org_id = $n` predicates are the first wall; row-level security is the second,
/// and it trusts only what this statement establishes. TenantKit's `SignedTenantContext` sends a
/// claim signed with a key the application role cannot read, bound to the connection's backend,
/// so SQL running as the application role cannot claim another principal or organization.
///
/// The statement runs first in the unit of work's transaction, in the same round trip.
public protocol TenantContext: Sendable {
    /// The statement that sets the context for `orgID` (nil before an organization is chosen)
    /// and `actor` on the connection served by backend process `backendPID`.
    func statement(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> PostgresQuery

    /// The statements that set the context, in the order they run (by default ``statement(orgID:actor:backendPID:)``
    /// alone). A scope sends them first, in the same round trip as its work.
    func statements(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> [PostgresQuery]

    /// True when the statements take effect only inside an explicit transaction block (`SET LOCAL`,
    /// which Citus forwards to its workers): a scope then sends `BEGIN`, the statements, its work and
    /// `COMMIT` in one pipeline, still one round trip. False by default (`set_config(..., true)`
    /// holds for the pipeline's implicit transaction).
    var requiresTransactionBlock: Bool { get }

    /// Where a scope's unscoped-access audit entry goes (see ``UnscopedAccess``): the statement that
    /// appends `action` with `details` to `orgID`'s audit log.
    func auditStatement(orgID: UUID, action: String, target: String, details: [String: String]) -> PostgresQuery
}

extension TenantContext {
    public func statements(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> [PostgresQuery] {
        [try statement(orgID: orgID, actor: actor, backendPID: backendPID)]
    }

    public var requiresTransactionBlock: Bool { false }
}

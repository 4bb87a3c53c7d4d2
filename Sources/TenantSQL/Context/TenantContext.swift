import Foundation
import Postgres

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

    /// Where a scope's unscoped-access audit entry goes (see ``UnscopedAccess``): the statement that
    /// appends `action` with `details` to `orgID`'s audit log.
    func auditStatement(orgID: UUID, action: String, target: String, details: [String: String]) -> PostgresQuery
}

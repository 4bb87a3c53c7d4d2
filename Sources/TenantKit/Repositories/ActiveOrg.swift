import Foundation
import TenantKitPostgres
import TenantSQL

/// The repositories of one organization, for one actor. Every call runs through the query builder
/// under an ``OrgScope``, so it touches only this organization's rows (RLS checks it again).
///
/// Usually reached through ``OrgSession/read(_:)`` and ``OrgSession/write(_:)``; a request
/// authenticated by an API key can also build one directly from ``TenantStore/authenticate(apiKey:)``.
///
/// ```swift
/// let page = try await session.read { org in try await org.catalog.page(kind: "model") }
/// let run = try await session.write { org in try await org.runs.start(itemID: item.id, cost: 5, idempotencyKey: "req-42") }
/// ```
public struct ActiveOrg: Sendable {
    public let scope: OrgScope

    public init(scope: OrgScope) { self.scope = scope }

    public var id: UUID { scope.orgID }
    public var organization: OrganizationRepository { OrganizationRepository(scope: scope) }
    public var members: MemberRepository { MemberRepository(scope: scope) }
    public var invitations: InvitationRepository { InvitationRepository(scope: scope) }
    public var domains: DomainRepository { DomainRepository(scope: scope) }
    public var catalog: CatalogRepository { CatalogRepository(scope: scope) }
    public var apiKeys: APIKeyRepository { APIKeyRepository(scope: scope) }
    public var credits: CreditRepository { CreditRepository(scope: scope) }
    public var runs: RunRepository { RunRepository(scope: scope) }
    public var audit: AuditRepository { AuditRepository(scope: scope) }
}

// MARK: Rules shared by the repositories

extension ScopedTransaction {
    /// The acting user's role in the organization; API keys act with the member role. (The
    /// database enforces the same rules by policy; this check gives the clear error first.)
    func actorRole() async throws -> Role {
        switch scope.actor {
        case .apiKey:
            return .member
        case .platformOperator:
            throw TenantError.forbidden(action: "acting as a member", required: .member)
        case .user(let userID):
            let m = MembershipsTable.table
            let role = try await fetchOptional(Select.from(m).columns(m.role).where(m.userID == userID), as: Role.self)
            guard let role else { throw TenantError.notAMember(orgID: scope.orgID) }
            return role
        }
    }

    /// Throws unless the actor has at least `required`.
    func require(_ required: Role, to action: String) async throws {
        guard try await actorRole() >= required else { throw TenantError.forbidden(action: action, required: required) }
    }

    /// The audit entry of a mutation, written in the same transaction (both land or neither does).
    func audit(_ action: String, target: String? = nil, details: [String: String] = [:]) async throws {
        try await execute(AuditRepository.entry(action, target: target, details: details))
    }
}

/// Maps the server's answer to a unique violation on `constraint` into ``TenantError/alreadyExists(_:)``
/// (also when a Citus worker reported it: see ``ConstraintViolation``).
@discardableResult
func mappingDuplicate<T>(_ constraint: String, as what: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PostgresError where ConstraintViolation.duplicate(constraint).matches(error) {
        throw TenantError.alreadyExists(what)
    }
}

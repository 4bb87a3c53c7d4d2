import Foundation
import TenantKitPostgres
import TenantSQL

/// Email-domain auto-join (admins only). A domain is first registered, then verified, then
/// enabled with a default role. Users with a verified email in an enabled domain join at sign-in
/// (``TenantStore/signIn(userID:)``).
///
/// Verification: ``challenge(for:)`` issues a value (stored hashed) for the organization to
/// publish as a DNS TXT record; once the application's own lookup finds it there,
/// ``markVerified(_:challenge:)`` records it with the application's signature over the org, the
/// domain and the challenge. The database refuses a verification without both, so SQL running as
/// the application role cannot claim a domain. A domain can be verified by one organization only.
public struct DomainRepository: Sendable {
    let scope: OrgScope

    public func list() async throws -> [EmailDomain] {
        let d = OrgEmailDomainsTable.table
        return try await scope.fetchAll(
            Select.from(d).columns(Self.columns(d)).orderBy(d.domain.asc),
            as: EmailDomain.self)
    }

    /// Registers a domain (not yet verified or enabled).
    public func register(_ domain: String, defaultRole: Role = .member) async throws {
        let domain = try validatedDomain(domain)
        guard defaultRole != .admin else { throw TenantError.invalidInput("auto-join cannot grant the admin role") }
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "managing email domains")
            let d = OrgEmailDomainsTable.table
            try await mappingDuplicate("org_email_domains_pkey", as: "domain \(domain)") {
                try await tx.execute(Insert.into(d).values(d.domain.set(domain), d.defaultRole.set(defaultRole.rawValue)))
            }
            try await tx.audit("domain.registered", target: domain, details: ["default_role": defaultRole.rawValue])
        }
    }

    /// A new challenge for a registered domain, valid for 7 days: the value to publish as a DNS TXT
    /// record of the domain. Issuing another replaces it.
    public func challenge(for domain: String) async throws -> String {
        let domain = try validatedDomain(domain)
        return try await scope.transaction { tx in
            try await tx.require(.admin, to: "managing email domains")
            do {
                return try await tx.fetchOne("SELECT tenantkit_issue_domain_challenge(\(domain))", as: String.self)
            } catch let error as PostgresError where error.code == SQLState("P0002") {
                throw TenantError.notFound("domain \(domain)")
            }
        }
    }

    /// Records that the application found `challenge` (from ``challenge(for:)``) published at the
    /// domain, which proves the organization controls it. Writes its own audit entry.
    public func markVerified(_ domain: String, challenge: String) async throws {
        let domain = try validatedDomain(domain)
        guard let signer = scope.context as? SignedTenantContext else {
            throw TenantError.invalidInput("verifying a domain needs a scope signed with a TenantContextKey")
        }
        let proof = signer.key.proof(purpose: "domain", subject: "\(scope.orgID.uuidString.lowercased()):\(domain):\(challenge)")
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "managing email domains")
            do {
                try await tx.execute("SELECT tenantkit_verify_org_domain(\(domain), \(challenge), \(proof))")
            } catch let error as PostgresError where error.code == SQLState("TK005") {
                throw TenantError.alreadyExists("a verified claim on \(domain) (held by another organization)")
            } catch let error as PostgresError where error.code == SQLState("TK006") {
                throw TenantError.invalidInput("the challenge for \(domain) is not the one issued, or it expired")
            }
        }
    }

    /// Turns auto-join on or off for a verified domain, with the role new members get.
    public func setAutoJoin(_ domain: String, enabled: Bool, defaultRole: Role = .member) async throws {
        let domain = try validatedDomain(domain)
        guard defaultRole != .admin else { throw TenantError.invalidInput("auto-join cannot grant the admin role") }
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "managing email domains")
            let d = OrgEmailDomainsTable.table
            let changed: Int
            do {
                changed = try await tx.execute(
                    Update.table(d).set(d.enabled.set(enabled), d.defaultRole.set(defaultRole.rawValue)).where(d.domain == domain))
            } catch let error as PostgresError where ConstraintViolation.domainNotVerified.matches(error) {
                throw TenantError.invalidInput("domain \(domain) must be verified before auto-join is enabled")
            }
            guard changed == 1 else { throw TenantError.notFound("domain \(domain)") }
            try await tx.audit(enabled ? "domain.auto_join_enabled" : "domain.auto_join_disabled", target: domain,
                               details: ["default_role": defaultRole.rawValue])
        }
    }

    /// Removes a domain.
    public func remove(_ domain: String) async throws {
        let domain = try validatedDomain(domain)
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "managing email domains")
            let d = OrgEmailDomainsTable.table
            guard try await tx.execute(Delete.from(d).where(d.domain == domain)) == 1 else {
                throw TenantError.notFound("domain \(domain)")
            }
            try await tx.audit("domain.removed", target: domain)
        }
    }

    /// What ``EmailDomain`` is read from (never the challenge's hash).
    static func columns(_ d: OrgEmailDomainsTable) -> [any Selectable] { [d.domain, d.enabled, d.defaultRole, d.verifiedAt] }
}

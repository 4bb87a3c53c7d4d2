import Foundation
import TenantKitPostgres
import TenantKit
import TenantSQL

/// The seeded two-org world every injection attack runs against: org A, whose members carry the
/// injections, and org B, whose data and authority they must not reach.
///
/// Both orgs get the leak harness's overlapping rows (same slugs, names and keys in each), then
/// values of their own that only B has (names, emails, a private item, API keys, credits, a run,
/// an invitation, a verified and claimed domain, audit entries), so a result can be scanned for B.
/// Fixed values live in ``Fixture``; ids are random and read back with ``load(from:)``.
public struct InjectionWorld: Sendable {
    /// The fixed values of the world (everything but ids).
    public enum Fixture {
        public static let nameOfA = "Initech (org A)"
        public static let nameOfB = "Vistaline Secret Projects (org B)"
        public static let settingsOfB = ["vault": "vistaline-settings-vault-code"]
        public static let adminOfAEmail = "mallory.admin@initech.test"
        public static let viewerOfAEmail = "mallory.viewer@initech.test"
        public static let adminOfBEmail = "hank.scorpio@vistaline.test"
        public static let memberOfBEmail = "frank.grimes@vistaline.test"
        public static let removedFromBEmail = "removed.contractor@outside.test"
        /// B's verified, claimed, auto-join domain.
        public static let domainOfB = "vistaline.test"
        /// A domain nobody has claimed (a prospect's).
        public static let unclaimedDomain = "unclaimed-prospect.test"
        public static let privateSlugOfB = "vistaline-doomsday"
        public static let privateNameOfB = "Doomsday Device (org B)"
        public static let privateSlugOfA = "initech-stapler"
        /// The full API key B's CI presents (the victim of key attacks).
        public static let keyOfBSecret = "tk_b0b5ec12_VistalineContinuousIntegrationKeyDoNotShare0"
        public static let revokedKeyOfBSecret = "tk_b0bdead0_VistalineRevokedKeyThatMustNotWorkAnyMore00"
        public static let keyOfASecret = "tk_a11ce0a1_InitechAutomationKeyOfOrgAUsedByTheAttacker0"
        /// An idempotency key of B's ledger an attacker could guess (invoice numbers are sequential).
        public static let guessableIdempotencyKeyOfB = "vistaline-invoice-1001"
        public static let purchaseOfB: Int64 = 7_340_058
        public static let runCostOfB: Int64 = 29
        public static let purchaseOfA: Int64 = 1_000
        public static let invitationTokenOfB = "vistaline-invitation-token-for-new-hire"
        public static let invitedEmailOfB = "new.hire@vistaline.test"

        /// The visible prefix of a full key (`tk_<8 hex>`).
        public static func prefix(of key: String) -> String { String(key.prefix(11)) }
    }

    /// The attackers' org.
    public let orgA: UUID
    /// The victims' org.
    public let orgB: UUID
    /// Users and keys: who they are is in the name.
    public let adminOfA: UUID
    public let viewerOfA: UUID
    public let keyOfA: UUID
    public let adminOfB: UUID
    public let memberOfB: UUID
    /// A user who was a member of B and was removed.
    public let removedFromB: UUID
    public let keyOfB: UUID
    public let revokedKeyOfB: UUID
    /// An item of the public catalog.
    public let publicItem: UUID
    /// B's private catalog item.
    public let privateItemOfB: UUID
    /// Every value only B's rows hold, which no attack result may contain.
    public let secretsOfB: [InjectionSecret]
    /// The database's own keys (the context keys' and the audit key's HMAC pads, owner-only
    /// tables), which no attack result may contain either.
    public let keySecrets: [InjectionSecret]

    /// Reads the world's ids back from a database made from ``TestDatabaseTemplate/injectionWorld``.
    public static func load(from admin: PostgresConnection) async throws -> InjectionWorld {
        struct Ids: Decodable {
            let orgA: UUID, orgB: UUID, adminOfA: UUID, viewerOfA: UUID, keyOfA: UUID
            let adminOfB: UUID, memberOfB: UUID, removedFromB: UUID, keyOfB: UUID, revokedKeyOfB: UUID
            let publicItem: UUID, privateItemOfB: UUID
        }
        let f = Fixture.self
        let ids = try await admin.fetchOne("""
            SELECT (SELECT id FROM organizations WHERE name = \(f.nameOfA)) AS org_a,
                   (SELECT id FROM organizations WHERE name = \(f.nameOfB)) AS org_b,
                   (SELECT id FROM users WHERE email = \(f.adminOfAEmail)) AS admin_of_a,
                   (SELECT id FROM users WHERE email = \(f.viewerOfAEmail)) AS viewer_of_a,
                   (SELECT id FROM api_keys WHERE prefix = \(f.prefix(of: f.keyOfASecret))) AS key_of_a,
                   (SELECT id FROM users WHERE email = \(f.adminOfBEmail)) AS admin_of_b,
                   (SELECT id FROM users WHERE email = \(f.memberOfBEmail)) AS member_of_b,
                   (SELECT id FROM users WHERE email = \(f.removedFromBEmail)) AS removed_from_b,
                   (SELECT id FROM api_keys WHERE prefix = \(f.prefix(of: f.keyOfBSecret))) AS key_of_b,
                   (SELECT id FROM api_keys WHERE prefix = \(f.prefix(of: f.revokedKeyOfBSecret))) AS revoked_key_of_b,
                   (SELECT id FROM public_catalog_items ORDER BY slug LIMIT 1) AS public_item,
                   (SELECT id FROM catalog_items WHERE slug = \(f.privateSlugOfB)) AS private_item_of_b
            """, as: Ids.self)
        let secrets = try await InjectionSecret.valuesOnlyHeldBy(ids.orgB, besides: ids.orgA, on: admin)
        struct Pads: Decodable { let label: String; let innerPad: Data; let outerPad: Data }
        let pads = try await admin.fetchAll("""
            SELECT 'context key ' || key_id AS label, inner_pad, outer_pad FROM tenantkit.context_keys
            UNION ALL SELECT 'audit key', inner_pad, outer_pad FROM tenantkit.audit_keys
            """, as: Pads.self)
        let keySecrets = pads.flatMap { pad in
            [InjectionSecret("\(pad.label) (inner pad)", .bytes(Array(pad.innerPad))),
             InjectionSecret("\(pad.label) (outer pad)", .bytes(Array(pad.outerPad)))]
        }
        return InjectionWorld(
            orgA: ids.orgA, orgB: ids.orgB, adminOfA: ids.adminOfA, viewerOfA: ids.viewerOfA, keyOfA: ids.keyOfA,
            adminOfB: ids.adminOfB, memberOfB: ids.memberOfB, removedFromB: ids.removedFromB, keyOfB: ids.keyOfB,
            revokedKeyOfB: ids.revokedKeyOfB, publicItem: ids.publicItem, privateItemOfB: ids.privateItemOfB,
            secretsOfB: secrets, keySecrets: keySecrets)
    }

    /// The org, actor and standing of an attacker in this world.
    public func principal(_ attacker: InjectionAttacker) -> InjectionPrincipal {
        switch attacker {
        case .adminOfA:
            InjectionPrincipal(attacker: attacker, scopeOrgID: orgA, actor: .user(adminOfA), homeOrgID: orgA, role: .admin)
        case .viewerOfA:
            InjectionPrincipal(attacker: attacker, scopeOrgID: orgA, actor: .user(viewerOfA), homeOrgID: orgA, role: .viewer)
        case .apiKeyOfA:
            InjectionPrincipal(attacker: attacker, scopeOrgID: orgA, actor: .apiKey(keyOfA, presentedHash: SHA256.digest(Array(Fixture.keyOfASecret.utf8))), homeOrgID: orgA, role: .member)
        case .removedFromB:
            InjectionPrincipal(attacker: attacker, scopeOrgID: orgB, actor: .user(removedFromB), homeOrgID: nil, role: nil)
        case .revokedKeyOfB:
            InjectionPrincipal(attacker: attacker, scopeOrgID: orgB, actor: .apiKey(revokedKeyOfB, presentedHash: SHA256.digest(Array(Fixture.revokedKeyOfBSecret.utf8))), homeOrgID: nil, role: nil)
        }
    }

    /// What an attacker can be assumed to know and types into its attack SQL as `{{name}}`: ids are
    /// not secrets (the fix must hold when they are known), nor are B's domain, its admin's email,
    /// its key's visible prefix or a guessable invoice number.
    ///
    /// `{{me}}` is the attacker's user id (empty for keys), `{{my_key}}` its key id (empty for users),
    /// `{{other_member_a}}` another user of A, `{{database}}` the current database's name.
    /// `{{b_key_hash}}` (hex) is the stored hash of B's key: not something an injection can read,
    /// for attacks that show a defence holds even if it were known (a leaked backup).
    @_optimize(none)  // Swift 6.3.1's optimizer crashes on this body in release builds (CopyPropagation)
    public func placeholders(for attacker: InjectionAttacker, database: String) -> [String: String] {
        let principal = principal(attacker)
        let text = { (id: UUID) in id.uuidString.lowercased() }
        return [
            "org_a": text(orgA), "org_b": text(orgB),
            "me": principal.userID.map(text) ?? "", "my_key": principal.apiKeyID.map(text) ?? "",
            "other_member_a": text(attacker == .adminOfA ? viewerOfA : adminOfA),
            "a_key": text(keyOfA),
            "user_b": text(adminOfB), "member_b": text(memberOfB), "email_b": Fixture.adminOfBEmail,
            "b_key_prefix": Fixture.prefix(of: Fixture.keyOfBSecret), "b_domain": Fixture.domainOfB,
            "b_key_hash": SHA256.hex(Array(Fixture.keyOfBSecret.utf8)),  // hex of the digest
            "b_idempotency_key": Fixture.guessableIdempotencyKeyOfB, "b_item": text(privateItemOfB),
            "public_item": text(publicItem), "unclaimed_domain": Fixture.unclaimedDomain, "database": database,
        ]
    }
}

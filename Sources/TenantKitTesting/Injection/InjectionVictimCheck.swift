import Foundation
import TenantKitPostgres
import TenantKit

/// A check for a victim after an attack: B (or anyone) using TenantKit's unmodified API on the
/// attack's pool, compared with the truth read as a superuser. It returns the problems it found.
public struct InjectionVictimCheck: Sendable {
    /// What is checked, for reports.
    public let name: String
    /// The check; its problems, none when the victim was unaffected.
    public let run: @Sendable (InjectionContext) async throws -> [String]

    /// A check named `name`.
    public init(_ name: String, run: @escaping @Sendable (InjectionContext) async throws -> [String]) {
        self.name = name
        self.run = run
    }

    /// B's admin reads B's name, catalog, balance and members through the repositories on the
    /// attack's pool, and gets exactly what the database holds for B.
    public static let victimReadsItsOwnData = InjectionVictimCheck("B reads its own data") { context in
        struct Truth: Decodable { let name: String; let items: [UUID]; let balance: Int64; let members: [UUID] }
        let b = context.world.orgB
        let truth = try await context.asSuperuser { admin in
            try await admin.fetchOne("""
                SELECT (SELECT name FROM organizations WHERE id = \(b)) AS name,
                       ARRAY(SELECT id FROM catalog_items WHERE org_id = \(b) UNION ALL SELECT id FROM public_catalog_items ORDER BY id) AS items,
                       (SELECT coalesce(sum(balance), 0)::bigint FROM ecu_accounts WHERE org_id = \(b)) AS balance,
                       ARRAY(SELECT user_id FROM memberships WHERE org_id = \(b) ORDER BY user_id) AS members
                """, as: Truth.self)
        }
        let victim = context.victim()
        var problems: [String] = []
        let name = try await victim.organization.get().name
        if name != truth.name { problems.append("B's admin saw its org named '\(name)', not '\(truth.name)'") }
        let items = try await victim.catalog.page(limit: 500).items.map(\.id).sorted { $0.uuidString < $1.uuidString }
        if items != truth.items.sorted(by: { $0.uuidString < $1.uuidString }) {
            problems.append("B's admin saw \(items.count) catalog item(s), the database holds \(truth.items.count) for B")
        }
        let balance = try await victim.credits.balance()
        if balance != truth.balance { problems.append("B's admin saw a balance of \(balance), the database holds \(truth.balance)") }
        let members = try await victim.members.list().map(\.userID).sorted { $0.uuidString < $1.uuidString }
        if members != truth.members.sorted(by: { $0.uuidString < $1.uuidString }) {
            problems.append("B's admin saw \(members.count) member(s), the database holds \(truth.members.count)")
        }
        return problems
    }

    /// B's CI presents B's API key on the attack's pool and is authenticated into B, as B's key.
    public static let victimKeyAuthenticatesIntoItsOrg = InjectionVictimCheck("B's API key authenticates into B") { context in
        let (org, key, _) = try await context.store().authenticate(apiKey: InjectionWorld.Fixture.keyOfBSecret)
        guard org == context.world.orgB, key == context.world.keyOfB else {
            return ["B's API key authenticated into org \(org == context.world.orgA ? "A" : org.uuidString) as key \(key)"]
        }
        return []
    }

    /// B's admin creates a catalog item through the repositories on the attack's pool; the item and
    /// its audit entry are in B's real tables afterwards (committed, not swallowed by a shadow table).
    public static let victimWritesLandAndAreAudited = InjectionVictimCheck("B's writes land and are audited") { context in
        let b = context.world.orgB
        let countAudit: @Sendable (PostgresConnection) async throws -> Int = { admin in
            try await admin.fetchOne("SELECT count(*) FROM audit_log WHERE org_id = \(b)", as: Int.self)
        }
        let auditBefore = try await context.asSuperuser(countAudit)
        let item = try await context.victim().catalog.create(kind: "model", slug: "victim-written-item", name: "Written by B's admin")
        let (stored, auditAfter) = try await context.asSuperuser { admin in
            (try await admin.fetchOne("SELECT count(*) FROM catalog_items WHERE id = \(item.id) AND org_id = \(b)", as: Int.self),
             try await countAudit(admin))
        }
        var problems: [String] = []
        if stored != 1 { problems.append("B's new catalog item is not in B's catalog_items") }
        if auditAfter <= auditBefore { problems.append("B's catalog change left no entry in B's audit_log") }
        return problems
    }
}

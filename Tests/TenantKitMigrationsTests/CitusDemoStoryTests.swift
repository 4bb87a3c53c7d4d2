import Foundation
import Synchronization
import TenantKit
import TenantKitPostgres
import TenantSQL
@testable import tenantkit
import Testing

/// The demo's story (`tenantkit demo`) on the distributed schema: auto-join on a verified domain,
/// an accepted invitation, the catalog, credits, runs, a switch with a read in flight, an API key
/// and the audit chain. Part of the opt-in `CitusDistributionTests`.
extension CitusTestCluster {
    func demoStoryRunsDistributed() async throws {
        let lines = Mutex<[String]>([])
        try await DemoStory(owner: coordinator, app: coordinator.with(user: "tenantkit_app")) { line in
            lines.withLock { $0.append(line) }
        }.tell()
        let told = lines.withLock { $0 }
        print("CitusDistributionTests: the demo's story on the cluster:\n" + told.joined(separator: "\n"))
        func said(_ fragment: String) -> Bool { told.contains { $0.contains(fragment) } }
        #expect(said("Citus \(version) coordinator: claims travel as SET LOCAL"))
        #expect(said("Bob signed in and joined Acme as a member"), "auto-join on the verified domain")
        #expect(said("she accepted and joined Bob's Lab"), "the invitation")
        // Other steps of the suite added public items of their own: the catalog shows those too.
        let catalog = told.first { $0.contains("Acme's catalog (public + its own): ") } ?? ""
        #expect(["Acme private model", "GPT (public)", "Llama (public)"].allSatisfy(catalog.contains), "\(catalog)")
        #expect(said("(retried with the same key: same run true); balance 12"))
        #expect(said("A 50 ECU run is refused and writes nothing: insufficient ECU balance: 12 available, 50 requested"))
        #expect(said("(public only), balance 0"))
        #expect(said("the read was re-issued and answered \"Acme"), "the switch cancelled the read on the cluster and re-issued it")
        #expect(said("(org Acme)"))
        #expect(said("started a run; switching orgs with it: a session made from an API key cannot switch organizations"))
        #expect(said("Hash chain: intact(entries: 10)"))
        #expect(told.filter { $0.hasPrefix("      #") }.count == 10, "Acme's audit entries")
    }

    /// The platform curates the public catalog through `UnscopedAccess`: the item reaches every
    /// org, and the access is in the audited org's chain.
    func curationThroughUnscopedAccessIsAudited() async throws {
        let pool = PostgresPool(configuration: coordinator.with(user: "tenantkit_app"), maxConnections: 1, taintedConnections: .close)
        let operators = PostgresPool(configuration: coordinator, maxConnections: 1)
        let store = TenantStore(pool: pool, key: Self.key, transport: .setLocal)
        let admin = try await store.createUser(email: "curator@umbrella.test", emailVerified: true)
        let org = try await store.createOrganization(named: "Umbrella", by: admin.id)
        let curator = try UnscopedAccess(
            unsafelyBypassingOrgScopeFor: "add a public model (Citus suite)", auditedIn: org, actor: .user(admin.id),
            context: SignedTenantContext(key: Self.key, transport: .setLocal), on: operators)
        let curated = PublicCatalogItemsTable.table
        try await curator.execute(Insert.into(curated).values(
            curated.kind.set("model"), curated.slug.set("curated-on-citus"), curated.name.set("Curated on Citus")))

        let active = ActiveOrg(scope: store.scope(org, as: .user(admin.id)))
        let item = try await active.catalog.page().items.first { $0.slug == "curated-on-citus" }
        #expect(item?.orgID == nil && item?.name == "Curated on Citus")
        let entries = try await active.audit.page(AuditFilter(action: UnscopedAccess.auditAction)).items
        #expect(entries.map(\.target) == ["public_catalog_items"])
        #expect("\(try await active.audit.verifyChain())".hasPrefix("intact"))
        await pool.close()
        await operators.close()
    }
}

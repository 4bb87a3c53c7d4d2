import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit

/// The demo's story (`tenantkit demo`): two users, three organizations, a domain auto-join, an
/// invitation, the catalog, credits and runs, a switch with a read in flight, an API key and the
/// audit log, each step said as one line. On a Citus coordinator it runs distributed.
struct DemoStory: Sendable {
    /// Migrates and seeds the public catalog (an owner or superuser).
    let owner: PostgresConfiguration
    /// The application role the story runs as.
    let app: PostgresConfiguration
    /// Where each line of the story goes.
    let say: @Sendable (String) -> Void

    /// Migrates `owner`'s database, seeds it and tells the story as `app`.
    func tell() async throws {
        let migrated = try await Migrator(sources: [.tenantKit]).up(configuration: owner)
        step("Schema: applied \(migrated.applied.count) migration(s), \(migrated.alreadyApplied) already there")
        // On a Citus coordinator claims travel as SET LOCAL, the form Citus sends to its workers.
        let citus = try await PostgresConnection.withConnection(owner) { try await CitusCluster.detect(on: $0) }
        if let citus { step("Citus \(citus.version) coordinator: claims travel as SET LOCAL, in the same round trip") }

        let run = String(UUID().uuidString.prefix(6)).lowercased()
        let curator = try await PostgresConnection.connect(owner)
        for (slug, name) in [("gpt-\(run)", "GPT (public)"), ("llama-\(run)", "Llama (public)")] {
            try await curator.execute("INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', \(slug), \(name))")
        }
        await curator.close()

        // The signing key: the deployment's (TENANTKIT_CONTEXT_KEY) or, for a throwaway run, a new one.
        let environment = ProcessInfo.processInfo.environment
        let key = environment["TENANTKIT_CONTEXT_KEY"] != nil || environment["TENANTKIT_CONTEXT_KEY_FILE"] != nil
            ? try TenantContextKey.fromEnvironment() : TenantContextKey.generate()
        try await PostgresConnection.withConnection(owner) { try await key.install(on: $0) }
        step("Context key \(key.id) installed: the database now verifies every claim the app signs")

        let pool = PostgresPool(configuration: app, maxConnections: 8, taintedConnections: citus == nil ? .reset : .close)
        let operators = PostgresPool(configuration: owner, maxConnections: 1)
        do {
            try await story(TenantStore(pool: pool, key: key, transport: citus == nil ? .setConfig : .setLocal), operators: operators, run: run)
            await pool.close()
            await operators.close()
        } catch {
            await pool.close()
            await operators.close()
            throw error
        }
    }

    private func story(_ store: TenantStore, operators: PostgresPool, run: String) async throws {

        // Two users, three organizations: Ada is in all three, Bob in two.
        let ada = try await store.createUser(email: "ada@acme-\(run).test", displayName: "Ada", emailVerified: true)
        let bob = try await store.createUser(email: "bob@acme-\(run).test", displayName: "Bob", emailVerified: true)
        let session = try await store.session(for: ada.id)
        let acme = try await session.createOrganization(named: "Acme \(run)")
        step("Ada created Acme and is its \(try await session.read { try await $0.members.myRole() }.value)")

        let domain = "acme-\(run).test"
        try await session.write { org in
            try await org.domains.register(domain, defaultRole: .member)
            // The org publishes the challenge in DNS; the app's lookup finds it (stood in for here).
            let challenge = try await org.domains.challenge(for: domain)
            try await org.domains.markVerified(domain, challenge: challenge)
            try await org.domains.setAutoJoin(domain, enabled: true, defaultRole: .member)
        }
        let autoJoined = try await store.signIn(userID: bob.id)
        step("Acme verified \(domain) for auto-join; Bob signed in and joined \(autoJoined == [acme] ? "Acme" : "nothing") as a member")

        let bobSession = try await store.session(for: bob.id)
        let lab = try await bobSession.createOrganization(named: "Bob's Lab \(run)")
        let invitation = try await bobSession.write { try await $0.invitations.invite(email: ada.email.uppercased(), role: .viewer) }.value
        let joined = try await store.acceptInvitation(token: invitation.token, userID: ada.id)
        step("Bob created his Lab and invited Ada by email; she accepted and joined \(joined.name) as a \(joined.role)")
        try await bobSession.switch(to: acme)

        let item = try await session.write { try await $0.catalog.create(kind: "model", slug: "acme-private", name: "Acme private model") }.value
        let catalog = try await session.read { try await $0.catalog.page() }
        step("Acme's catalog (public + its own): \(catalog.value.items.map(\.name).joined(separator: ", "))")

        // ECU is bought: the platform grants it, from an operator's login, never an org admin.
        _ = try await store.platformOperator(UUID(), in: acme, on: operators).credits
            .grant(20, reason: "welcome credits", idempotencyKey: "welcome")
        let firstRun = try await bobSession.write { try await $0.runs.start(itemID: item.id, cost: 8, idempotencyKey: "req-1") }.value
        let retried = try await bobSession.write { try await $0.runs.start(itemID: item.id, cost: 8, idempotencyKey: "req-1") }.value
        step("Bob started a run for 8 ECU (retried with the same key: same run \(retried.id == firstRun.id)); balance \(try await session.read { try await $0.credits.balance() }.value)")
        do {
            _ = try await bobSession.write { try await $0.runs.start(itemID: item.id, cost: 50, idempotencyKey: "req-2") }
        } catch let error as TenantError {
            step("A 50 ECU run is refused and writes nothing: \(error)")
        }

        let beta = try await session.createOrganization(named: "Beta \(run)")
        let betaCatalog = try await session.read { try await $0.catalog.page() }
        step("Ada's orgs: \(try await session.organizations().map { "\($0.name) (\($0.role))" }.joined(separator: ", "))")
        step("Ada switched to Beta: its catalog shows \(betaCatalog.value.items.count) items (public only), balance \(try await session.read { try await $0.credits.balance() }.value)")

        // A read in flight during a switch is cancelled on the server and re-issued for the new org.
        let slowRead = Task {
            try await session.read { org in
                try await org.scope.fetchOne("SELECT name FROM organizations, pg_sleep(0.5)", as: String.self)
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        try await session.switch(to: acme)
        let reissued = try await slowRead.value
        step("Switched back to Acme mid-read: the read was re-issued and answered \"\(reissued.value)\" (org \(reissued.orgID == acme ? "Acme" : "Beta"))")
        _ = (beta, lab)

        let key = try await session.write { try await $0.apiKeys.create(name: "deploy bot") }.value
        let bot = try await store.session(apiKey: key.secret)
        _ = try await bot.write { try await $0.runs.start(itemID: item.id, cost: 2, idempotencyKey: "bot-1") }
        let switchRefused: String
        do {
            try await bot.switch(to: beta)
            switchRefused = "no"
        } catch {
            switchRefused = "\(error)"
        }
        step("The API key \(key.key.prefix)… started a run; switching orgs with it: \(switchRefused)")

        let audit = try await session.read { try await $0.audit.page(limit: 20).items }.value
        step("Acme's audit log, newest first:")
        for entry in audit {
            let actor = entry.actorAPIKeyID != nil ? "api key" : entry.actorUserID == nil ? "the platform" : entry.actorUserID == ada.id ? "ada" : "bob"
            say("      #\(entry.seq) \(entry.action) by \(actor)")
        }
        step("Hash chain: \(try await session.read { try await $0.audit.verifyChain() }.value)")
    }

    private func step(_ text: String) { say("  • " + text) }
}

import Foundation
import TenantKitPostgres
@testable import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The `SET LOCAL` transport (what reaches Citus workers) on one server: the same isolation and the
/// same round trips as `set_config`, and nothing left on the connection afterwards.
@Suite struct ContextTransportTests {
    /// A store whose one connection every call shares, so round trips and leftovers can be read.
    static func store(_ db: TestDatabase, _ transport: SignedTenantContext.Transport) -> TenantStore {
        TenantStore(pool: db.makePool(user: "tenantkit_app", maxConnections: 1), key: .forTesting, transport: transport)
    }

    @Test func aSetLocalScopeSeesOnlyItsOrgInOneRoundTrip() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let store = Self.store(db, .setLocal)
            // Pre-tenant entry points (sign-up, creating an org) go through the same transport.
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let bob = try await store.createUser(email: "bob@globex.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            _ = try await store.createOrganization(named: "Globex", by: bob.id)

            for transport in [SignedTenantContext.Transport.setConfig, .setLocal] {
                let scope = OrgScope(orgID: acme, actor: .user(ada.id), context: SignedTenantContext(key: .forTesting, transport: transport), on: store.pool)
                let before = try await store.pool.withConnection { $0.roundTrips }
                let names = try await scope.fetchAll("SELECT name FROM organizations ORDER BY name", as: String.self)
                let after = try await store.pool.withConnection { $0.roundTrips }
                #expect(names == ["Acme"], "\(transport)")
                #expect(after - before == 1, "\(transport): a scoped read took \(after - before) round trips")
                // Two statements, still one round trip, one result each.
                let both = try await scope.pipeline(["SELECT count(*)::int FROM memberships", "SELECT count(*)::int FROM organizations"])
                #expect(try both.map { try $0.first!.decode(Int.self, at: 0) } == [1, 1])
            }
            // Nothing stays on the connection: no claim, no open transaction, no propagation setting.
            try await store.pool.withConnection { c async throws in
                #expect(try await c.fetchOne("SELECT coalesce(current_setting('tenantkit.claim', true), '')", as: String.self) == "")
                #expect(try await c.fetchOne("SELECT coalesce(current_setting('citus.propagate_set_commands', true), '')", as: String.self) != "local")
                #expect(try await c.fetchOne("SELECT count(*)::int FROM organizations", as: Int.self) == 0)
            }
            await store.pool.close()
        }
    }

    @Test func aFailingStatementRollsTheBlockBackAndLeavesTheConnectionClean() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let store = Self.store(db, .setLocal)
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            let scope = store.scope(acme, as: .user(ada.id))
            let pid = try await store.pool.withConnection { $0.backendPID }

            let error = await #expect(throws: PostgresError.self) {
                _ = try await scope.pipeline([
                    "UPDATE organizations SET name = 'Renamed'",
                    "SELECT 1 / 0",
                ])
            }
            #expect(error?.code == SQLState("22012"))
            #expect(error?.statementIndex == 1, "the index counts the caller's statements only")
            #expect(try await scope.fetchOne("SELECT name FROM organizations", as: String.self) == "Acme", "the update was rolled back")
            try await store.pool.withConnection { c async throws in
                #expect(c.backendPID == pid, "the connection was kept, not dropped")
                #expect(try await c.fetchOne("SELECT coalesce(current_setting('tenantkit.claim', true), '')", as: String.self) == "")
            }
            // A transaction body gets the context too (BEGIN comes from the transaction).
            let name = try await scope.transaction { tx in try await tx.fetchOne("SELECT name FROM organizations", as: String.self) }
            #expect(name == "Acme")
            await store.pool.close()
        }
    }

    @Test func anAPIKeyAuthenticatesThroughSetLocal() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let store = Self.store(db, .setLocal)
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            let issued = try await ActiveOrg(scope: store.scope(acme, as: .user(ada.id))).apiKeys.create(name: "ci")
            #expect(try await store.withAPIKey(issued.secret) { try await $0.organization.get().name } == "Acme")
            let forged = String(issued.secret.dropLast(3)) + "abc"
            #expect(await #expect(throws: TenantError.self) { try await store.withAPIKey(forged) { try await $0.organization.get() } }
                == .invalidAPIKey)
            await store.pool.close()
        }
    }

    @Test func onlyAWellFormedClaimIsSpliced() throws {
        let context = SignedTenantContext(key: .forTesting, transport: .setLocal)
        let claim = context.claim(orgID: UUID(), actor: .user(UUID()), backendPID: 42)
        let statement = try ClaimLiteral(claim).setLocal
        #expect(statement.sql == "SET LOCAL tenantkit.claim = '\(claim)'")
        #expect(!statement.isDynamic && !statement.isCached)
        #expect(statement.binds.count == 0)

        for bad in [String(claim.dropLast()), String(claim.dropLast()) + "'", claim.uppercased(), String(claim.dropLast(2)) + "';"] {
            #expect(throws: TenantError.self) { try ClaimLiteral(bad) }
        }
        let statements = try context.statements(orgID: UUID(), actor: .user(UUID()), backendPID: 42)
        #expect(statements.map(\.sql).first == "SET LOCAL citus.propagate_set_commands = 'local'")
        #expect(statements.count == 2 && context.requiresTransactionBlock)
        #expect(!SignedTenantContext(key: .forTesting).requiresTransactionBlock)
    }
}

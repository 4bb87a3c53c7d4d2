import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// Sessions that live in the database: restored on another instance, switched on one and
/// followed by the other (its slow read cancelled on the server and re-issued), closed, swept.
@Suite struct PersistentSessionTests {
    /// Two application instances on one database: each its own pool and store.
    func withTwoInstances(_ body: (TestDatabase, TenantStore, TenantStore) async throws -> Void) async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let one = db.makeStore(), two = db.makeStore()
            do {
                try await body(db, one, two)
            } catch {
                await one.pool.close()
                await two.pool.close()
                throw error
            }
            await one.pool.close()
            await two.pool.close()
        }
    }

    @Test func aSwitchOnOneInstanceReissuesTheOthersSlowReadInTheNewOrg() async throws {
        try await withTwoInstances { db, one, two in
            let ada = try await one.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await one.createOrganization(named: "Acme", by: ada.id)
            let globex = try await one.createOrganization(named: "Globex", by: ada.id)
            let opened = try await one.openSession(for: ada.id, activeOrgID: acme)
            #expect(opened.token.hasPrefix("tks_"))

            // The other instance restores it from the token, and follows changes.
            let restored = try await two.session(token: opened.token)
            #expect(await restored.activeOrgID == acme)
            #expect(restored.sessionID == opened.session.sessionID)
            let follower = Task { try await two.followSessionChanges(listening: db.configuration.with(user: "tenantkit_app")) }
            try await Task.sleep(for: .milliseconds(500))  // listening

            // A read on instance two that is slow in Acme, quick elsewhere.
            let clock = ContinuousClock(), started = clock.now
            let read = Task {
                try await restored.read { org in
                    if org.id == acme { _ = try await org.scope.query("SELECT pg_sleep(20)") }
                    return try await org.organization.get().name
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            try await opened.session.switch(to: globex)  // on instance one
            let result = try await read.value
            #expect(result.orgID == globex && result.value == "Globex")
            #expect(clock.now - started < .seconds(10), "the slow read was cancelled, not waited for")
            #expect(await restored.activeOrgID == globex)

            // Restoring again (a restart) finds the switched org.
            #expect(await (try await one.session(token: opened.token)).activeOrgID == globex)

            // Signing out on instance one ends the session on instance two as well.
            try await one.closeSession(opened.session)
            try await Task.sleep(for: .milliseconds(500))
            #expect(await tenantError { try await restored.read { try await $0.organization.get() } } == .invalidSession)
            #expect(await tenantError { try await two.session(token: opened.token) } == .invalidSession)
            follower.cancel()
        }
    }

    @Test func expiredSessionsFailAndAreSweptAndARemovedMemberLosesTheActiveOrg() async throws {
        try await withTwoInstances { db, one, _ in
            let ada = try await one.createUser(email: "ada@acme.test", emailVerified: true)
            let acme = try await one.createOrganization(named: "Acme", by: ada.id)
            let short = try await one.openSession(for: ada.id, lifetime: .seconds(1))
            let long = try await one.openSession(for: ada.id)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(await tenantError { try await one.session(token: short.token) } == .invalidSession)
            // The live copy ends at its expiry too, without asking the database.
            #expect(await tenantError { try await short.session.read { try await $0.organization.get() } } == .invalidSession)
            #expect(try await one.sweepExpiredSessions() == 1)
            #expect(await (try await one.session(token: long.token)).activeOrgID == acme)

            // Removed from Acme (by the superuser here), the session comes back without an active org.
            let bob = try await one.createUser(email: "bob@acme.test", emailVerified: true)
            try await PostgresConnection.withConnection(db.configuration) { admin in
                try await admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(acme), \(bob.id), 'admin')")
                try await admin.execute("DELETE FROM memberships WHERE org_id = \(acme) AND user_id = \(ada.id)")
            }
            #expect(await (try await one.session(token: long.token)).activeOrgID == nil)
            #expect(await tenantError { try await one.session(token: "tks_unknown") } == .invalidSession)
            #expect(await tenantError { try await one.openSession(for: ada.id, lifetime: .seconds(91 * 24 * 3600)) }
                == .invalidInput("a session lasts more than 0 seconds and at most 90 days"))
        }
    }

    /// The attack as it arrives: raw SQL through a scope of the attacker's own org.
    @Test func anInjectionCannotReadSessionsNorMoveAnotherUsersSession() async throws {
        try await withTwoInstances { _, one, _ in
            let ada = try await one.createUser(email: "ada@acme.test", emailVerified: true)
            let eve = try await one.createUser(email: "eve@evil.test", emailVerified: true)
            let acme = try await one.createOrganization(named: "Acme", by: ada.id)
            let evil = try await one.createOrganization(named: "Evil", by: eve.id)
            let adas = try await one.openSession(for: ada.id, activeOrgID: acme)
            let adaID = try #require(adas.session.sessionID)
            let attacker = one.scope(evil, as: .user(eve.id))

            let read = await postgresError { try await attacker.query(PostgresQuery(unsafeSQL: "SELECT token_hash FROM tenantkit.sessions")) }
            #expect(read?.code == .insufficientPrivilege)
            let moved = await postgresError {
                try await attacker.query(PostgresQuery(unsafeSQL: "SELECT tenantkit_session_switch('\(adaID.uuidString.lowercased())')"))
            }
            #expect(moved?.code == SQLState("TK008"))
            let closed = try await attacker.query(PostgresQuery(unsafeSQL: "SELECT tenantkit_session_close('\(adaID.uuidString.lowercased())')"))
            #expect(closed.count == 1)
            #expect(await (try await one.session(token: adas.token)).activeOrgID == acme, "Ada's session is untouched")
            let resumed = try await attacker.query(PostgresQuery(unsafeSQL: "SELECT * FROM tenantkit_session_resume(sha256('guess'::bytea))"))
            #expect(resumed.count == 0)
            // A session of its own, to keep as a 90-day login: refused without the application's proof.
            let minted = await postgresError {
                try await attacker.query(PostgresQuery(unsafeSQL: """
                    SELECT tenantkit_session_open(sha256('x'::bytea), extract(epoch FROM now())::bigint + 86400, repeat('0', 82))
                    """))
            }
            #expect(minted?.code == .insufficientPrivilege)
            #expect(await tenantError { try await one.session(token: "x") } == .invalidSession)
        }
    }
}

extension PersistentSessionTests {
    @Test func aUserKeepsAtMostFiftySessionsTheOldestEndFirst() async throws {
        try await withTwoInstances { _, one, _ in
            let ada = try await one.createUser(email: "ada@acme.test", emailVerified: true)
            _ = try await one.createOrganization(named: "Acme", by: ada.id)
            var tokens: [String] = []
            for _ in 0..<51 { tokens.append(try await one.openSession(for: ada.id).token) }
            #expect(await tenantError { try await one.session(token: tokens[0]) } == .invalidSession)
            #expect(try await one.session(token: tokens[1]).sessionID != nil)
            #expect(try await one.session(token: tokens[50]).sessionID != nil)
        }
    }
}

private func postgresError(_ body: () async throws -> Any) async -> PostgresError? {
    do {
        _ = try await body()
        return nil
    } catch let error as PostgresError {
        return error
    } catch {
        return nil
    }
}

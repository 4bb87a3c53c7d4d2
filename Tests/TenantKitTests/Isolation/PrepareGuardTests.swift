import Foundation
import TenantKitDoctor
import TenantKitPostgres
import TenantKitTesting
import TenantSQL
import Testing

/// `PREPARE TRANSACTION` from an injection: a transaction of the attacker's scope, with its locks,
/// kept past the session until a superuser ends it. PostgreSQL has no privilege that refuses it;
/// where two-phase commit is on (every Citus node), the extension's prepare guard does.
@Suite struct PrepareGuardTests {
    /// The attacks, as raw SQL through `OrgScope` on the test server, which runs with 2PC on and
    /// the guard preloaded (``TestServer/settings``). Under `DATABASE_URL` the server's own settings
    /// decide, and the test checks the refusal it gives.
    @Test func anInjectedPrepareTransactionIsRefusedAndLeavesNothing() async throws {
        try await Iso.withTwoOrgs(maxConnections: 1) { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            struct TwoPhase: Decodable { let slots: Int; let guarded: Bool }
            let server = try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) {
                try await $0.fetchOne("""
                    SELECT current_setting('max_prepared_transactions')::int AS slots,
                           coalesce(current_setting('tenantkit.prepare_guard', true), 'off') = 'on' AS guarded
                    """, as: TwoPhase.self)
            }
            let embedded = try await TestServer.shared.embeddedServer() != nil
            if embedded {
                try #require(server.slots > 0 && server.guarded, """
                    the test server should run with two-phase commit on and the prepare guard preloaded \
                    (build and install Extensions/tenantkit_context: make -C Extensions/tenantkit_context install)
                    """)
            }

            let attacks: [(String, [String])] = [
                ("in the scope's transaction", [
                    "SELECT pg_advisory_xact_lock(hashtext('tenantkit'))", "PREPARE TRANSACTION 'tk_guard_in_scope'",
                ]),
                ("after ending the scope's transaction with an injected COMMIT", [
                    "COMMIT", "BEGIN", "LOCK TABLE memberships IN SHARE MODE", "PREPARE TRANSACTION 'tk_guard_after_commit'",
                ]),
                // The guard lets Citus's own names through only where Citus is there to end them.
                ("under a name shaped like a Citus two-phase commit's, without Citus", [
                    "SELECT pg_advisory_xact_lock(hashtext('tenantkit'))", "PREPARE TRANSACTION 'citus_0_99999_123456789_0'",
                ]),
            ]
            for (name, statements) in attacks {
                let error = await Iso.error(PostgresError.self) {
                    try await scope.transaction { tx async throws in
                        for sql in statements { _ = try await tx.query(PostgresQuery(unsafeSQL: sql)) }
                    }
                }
                if server.guarded {
                    #expect(error?.code == .insufficientPrivilege, "\(name)")
                    #expect(error?.message == "PREPARE TRANSACTION is refused to role \"tenantkit_app\"", "\(name)")
                } else if server.slots == 0 {
                    #expect(error?.message == "prepared transactions are disabled", "\(name)")
                } else {
                    Issue.record("DATABASE_URL's server lets tenantkit_app PREPARE TRANSACTION (\(name)): preload the guard there")
                }
            }

            try await Iso.withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchAll("SELECT gid FROM pg_prepared_xacts", as: String.self) == [])
                // Nothing is held: a superuser takes the lock and the table at once.
                #expect(try await admin.fetchOne("SELECT pg_try_advisory_lock(hashtext('tenantkit'))", as: Bool.self))
                try await admin.execute("SELECT pg_advisory_unlock_all()")
                guard server.slots > 0 else { return }
                // The refusal is the guard's, not the server's: a superuser may still prepare.
                try await admin.execute("BEGIN")
                try await admin.execute("LOCK TABLE memberships IN SHARE MODE NOWAIT")
                try await admin.execute("PREPARE TRANSACTION 'tk_guard_superuser'")
                #expect(try await admin.fetchAll("SELECT gid || ' ' || owner FROM pg_prepared_xacts", as: String.self)
                    == ["tk_guard_superuser postgres"])
                try await admin.execute("ROLLBACK PREPARED 'tk_guard_superuser'")
            }
            // The pooled connection still serves the attacker's org, and only it.
            #expect(try await scope.fetchAll("SELECT id FROM organizations", as: UUID.self) == [a.id])
        }
    }

    /// The same server kind without the guard: what the guard prevents happens, and `doctor` says so.
    @Test func withoutTheGuardTheAppRoleKeepsATransactionAndDoctorSaysSo() async throws {
        let server = try await EmbeddedPostgres.start(settings: ["max_prepared_transactions": "2"])
        defer { server.stop() }
        try await Iso.withConnection(server.configuration) { admin async throws in
            try await admin.execute("CREATE ROLE tk_unguarded_app LOGIN")
        }
        let app = server.configuration.with(user: "tk_unguarded_app")
        try await Iso.withConnection(app) { connection async throws in
            #expect(try await connection.fetchOne("SELECT current_setting('tenantkit.prepare_guard', true)", as: String?.self) == nil)
            try await connection.execute("BEGIN")
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtext('tenantkit'))")
            try await connection.execute("PREPARE TRANSACTION 'tk_unguarded_kept'")
        }
        let report = try await Doctor.check(configuration: app)
        let finding = report.findings.first { $0.check == .preparedTransactionsUnguarded }
        #expect(finding?.subject == "setting max_prepared_transactions")
        #expect(finding?.message.hasPrefix("is 2 and role tk_unguarded_app may PREPARE TRANSACTION") == true)

        try await Iso.withConnection(server.configuration) { admin async throws in
            // The connection is gone; its transaction and lock are not.
            #expect(try await admin.fetchAll("SELECT gid || ' ' || owner FROM pg_prepared_xacts", as: String.self)
                == ["tk_unguarded_kept tk_unguarded_app"])
            #expect(try await admin.fetchOne("SELECT pg_try_advisory_lock(hashtext('tenantkit'))", as: Bool.self) == false)
            try await admin.execute("ROLLBACK PREPARED 'tk_unguarded_kept'")
        }
    }
}

import Foundation
import TenantKitDoctor
import TenantKitMigrations
import TenantKitPostgres
import Testing
import TenantKitTesting

/// `doctor` on the real schema: clean, and for each finding a test that breaks exactly that one
/// thing (as the superuser) and sees `doctor`, connected as the app role, name it.
@Suite struct DoctorTests {
    /// Breaks the migrated database with `breakage` (run as the superuser), then runs doctor as `role`.
    func findings(
        after breakage: String? = nil, as role: String = "tenantkit_app", migrator: Migrator? = Migrator(directory: schemaDirectory),
        session: String? = nil
    ) async throws -> [DoctorFinding] {
        try await TestDatabase.with(template: .migrated) { db async throws in
            if let breakage {
                try await withConnection(db.configuration) { try await $0.executeScript(unsafeSQL: breakage) }
            }
            return try await withConnection(db.configuration.with(user: role)) { app async throws in
                if let session { try await app.executeScript(unsafeSQL: session) }
                return try await Doctor.check(connection: app, migrator: migrator).findings
            }
        }
    }

    func summary(_ findings: [DoctorFinding]) -> [String] { findings.map { "\($0.check) \($0.subject)" } }

    @Test func realSchemaIsClean() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            let report = try await Doctor.check(configuration: db.configuration.with(user: "tenantkit_app"), migrator: Migrator(directory: schemaDirectory))
            #expect(report.role == "tenantkit_app")
            #expect(report.findings == [])
            #expect(report.notes == [])
            #expect(report.contextVerifier != nil)
            try report.requireHealthy()
        }
    }

    /// The portable verifier's schema is as clean, and the report says which verifier each has.
    @Test func theReportNamesTheContextVerifier() async throws {
        try await TestDatabase.with(template: .migratedPortable) { db async throws in
            let report = try await Doctor.check(configuration: db.configuration.with(user: "tenantkit_app"), migrator: Migrator(directory: schemaDirectory))
            #expect(report.contextVerifier == .portable)
            try report.requireHealthy()
        }
        try await TestDatabase.with(template: .migrated) { db async throws in
            let available = try await PostgresConnection.withConnection(db.configuration) { admin in
                try await admin.fetchOne("SELECT count(*) > 0 FROM pg_available_extensions WHERE name = 'tenantkit_context'", as: Bool.self)
            }
            let report = try await Doctor.check(configuration: db.configuration.with(user: "tenantkit_app"))
            #expect(report.contextVerifier == (available ? .native : .portable))
            guard available else { return }
            // A cache-clearing trigger switched to fire only on the origin is named.
            try await PostgresConnection.withConnection(db.configuration) { admin in
                try await admin.executeScript(unsafeSQL: "ALTER TABLE memberships ENABLE TRIGGER context_cache_invalidate")
            }
            let broken = try await Doctor.check(configuration: db.configuration.with(user: "tenantkit_app"))
            #expect(summary(broken.findings) == ["native-verifier-unwatched trigger context_cache_invalidate on public.memberships"])
        }
    }

    @Test func rlsNotForced() async throws {
        let found = try await findings(after: "ALTER TABLE runs NO FORCE ROW LEVEL SECURITY")
        #expect(summary(found) == ["rls-not-forced table public.runs"])
        #expect(found[0].message.contains("FORCE ROW LEVEL SECURITY"))
    }

    @Test func rlsNotEnabled() async throws {
        #expect(summary(try await findings(after: "ALTER TABLE api_keys DISABLE ROW LEVEL SECURITY"))
            == ["rls-not-enabled table public.api_keys"])
    }

    @Test func noPolicy() async throws {
        #expect(summary(try await findings(after: "DROP POLICY ecu_accounts_read ON ecu_accounts"))
            == ["no-policy table public.ecu_accounts"])
    }

    @Test func policyCallingCurrentSettingPerRow() async throws {
        let found = try await findings(after: """
            CREATE POLICY runs_slow ON runs TO tenantkit_app USING (org_id = tenantkit.current_org())
            """)
        #expect(summary(found) == ["policy-per-row-setting policy runs_slow on public.runs"])
    }

    @Test func policyTrustingAPlainSetting() async throws {
        let found = try await findings(after: """
            CREATE POLICY runs_forgeable ON runs TO tenantkit_app
                USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
            """)
        #expect(summary(found) == ["policy-trusts-plain-setting policy runs_forgeable on public.runs"])
        #expect(found[0].message.contains("tenantkit.current_org()"))
    }

    @Test func tenantTableWithoutOrgIndex() async throws {
        let found = try await findings(after: """
            SET ROLE tenantkit_owner;
            CREATE TABLE widgets (id uuid PRIMARY KEY, org_id uuid NOT NULL);
            ALTER TABLE widgets ENABLE ROW LEVEL SECURITY;
            ALTER TABLE widgets FORCE ROW LEVEL SECURITY;
            CREATE POLICY widgets_tenant ON widgets TO tenantkit_app
                USING (org_id = (SELECT tenantkit.current_org()));
            RESET ROLE;
            """)
        #expect(summary(found) == ["no-org-index table public.widgets"])
    }

    @Test func viewWithoutSecurityInvoker() async throws {
        let breakage = "SET ROLE tenantkit_owner; CREATE VIEW run_costs AS SELECT org_id, cost FROM runs; RESET ROLE;"
        #expect(summary(try await findings(after: breakage)) == ["view-without-security-invoker view public.run_costs"])
        #expect(try await findings(after: breakage + "ALTER VIEW run_costs SET (security_invoker = true);") == [])
    }

    @Test func securityDefinerWithoutSearchPath() async throws {
        // Created by tenantkit_owner, whose default privileges already keep PUBLIC out.
        let found = try await findings(after: """
            SET ROLE tenantkit_owner;
            CREATE FUNCTION count_runs() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM runs';
            RESET ROLE;
            """)
        #expect(summary(found) == ["definer-without-search-path function public.count_runs()"])
    }

    @Test func securityDefinerExecutableByPublic() async throws {
        let found = try await findings(after: """
            SET ROLE tenantkit_owner;
            CREATE FUNCTION count_runs(p uuid) RETURNS bigint LANGUAGE sql SECURITY DEFINER
                SET search_path = pg_catalog, pg_temp AS 'SELECT count(*) FROM public.runs';
            GRANT EXECUTE ON FUNCTION count_runs(uuid) TO PUBLIC;
            RESET ROLE;
            """)
        // No migration made it, and anyone may run it as the owner.
        #expect(summary(found) == [
            "definer-executable-by-public function public.count_runs(p uuid)", "unmigrated-function function public.count_runs(p uuid)",
        ])
    }

    @Test func definerSearchPathReachingTheCallersTemporarySchema() async throws {
        let found = try await findings(after: """
            SET ROLE tenantkit_owner;
            CREATE FUNCTION count_runs() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                SET search_path = pg_catalog, public AS 'SELECT count(*) FROM runs';
            RESET ROLE;
            """)
        #expect(summary(found) == ["definer-search-path-reaches-temp function public.count_runs()"])
    }

    @Test func temporaryObjectsRoleDefaultsAndPublishedSQL() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            try await withConnection(db.configuration) { admin async throws in
                try await admin.executeScript(unsafeSQL: "GRANT TEMPORARY ON DATABASE \"\(db.name)\" TO tenantkit_app")
                try await admin.executeScript(unsafeSQL: "ALTER ROLE tenantkit_app IN DATABASE \"\(db.name)\" SET work_mem = '64MB'")
            }
            let report = try await Doctor.check(configuration: db.configuration.with(user: "tenantkit_app"))
            #expect(summary(report.findings) == ["app-may-create-temp role tenantkit_app", "role-default setting work_mem"])
        }
    }

    @Test func appRoleOwnsATable() async throws {
        #expect(summary(try await findings(after: "ALTER TABLE runs OWNER TO tenantkit_app"))
            == ["app-role-owns-tables table public.runs"])
    }

    @Test func appRoleIsSuperuser() async throws {
        try await withThrowawayRole("tk_doctor_super", attributes: "SUPERUSER") { role async throws in
            let found = try await findings(as: role)
            #expect(summary(found) == ["app-role-superuser role \(role)"])
        }
    }

    @Test func appRoleBypassesRLS() async throws {
        // A separate role (member of tenantkit_app, so it has the app's grants): role attributes are
        // cluster-wide and other tests use tenantkit_app at the same time.
        try await withThrowawayRole("tk_doctor_bypass", attributes: "BYPASSRLS IN ROLE tenantkit_app") { role async throws in
            // (A throwaway role also publishes its SQL: only tenantkit_app has track_activities off.)
            #expect(summary(try await findings(as: role).filter { $0.check != .appPublishesSQL }) == ["app-role-bypassrls role \(role)"])
        }
    }

    @Test func appRoleThatCanBecomeTheOwner() async throws {
        try await withThrowawayRole("tk_doctor_member", attributes: "IN ROLE tenantkit_app, tenantkit_owner") { role async throws in
            let found = try await findings(as: role).filter { $0.check != .appPublishesSQL }
            #expect(!found.isEmpty)
            #expect(found.allSatisfy { $0.check == .appRoleOwnsTables && $0.message.hasPrefix("is owned by tenantkit_owner") })
            #expect(summary(found).contains("app-role-owns-tables table public.audit_log"))
        }
    }

    @Test func sessionLevelTenantSetting() async throws {
        let found = try await findings(session: "SET tenantkit.org_id = '00000000-0000-0000-0000-000000000001'")
        #expect(summary(found) == ["session-setting setting tenantkit.org_id"])
        // The transaction-local form used everywhere leaves nothing behind.
        #expect(try await findings(session: "SELECT set_config('tenantkit.org_id', '00000000-0000-0000-0000-000000000001', true)") == [])
    }

    @Test func pendingAndChangedMigrations() async throws {
        var files = try schemaFiles()
        files["0010_entry_points.sql"]! += "\n-- edited after it was applied\n"
        files[String(format: "%04d_extra.sql", files.count + 1)] = "SELECT 1;\n"
        let extra = String(format: "%04d_extra.sql", files.count)
        try await withMigrationFiles(files) { directory async throws in
            let found = try await findings(migrator: Migrator(directory: directory))
            #expect(summary(found) == ["pending-migration migration \(extra)", "migration-drift migration 0010_entry_points.sql"])
        }
    }

    @Test func requireHealthyListsEveryFinding() async throws {
        try await TestDatabase.with(template: .migrated) { db async throws in
            try await withConnection(db.configuration) { try await $0.executeScript(unsafeSQL: "ALTER TABLE runs NO FORCE ROW LEVEL SECURITY") }
            let report = try await Doctor.check(configuration: db.configuration.with(user: "tenantkit_app"))
            #expect(report.notes == ["migrations not checked: no migrations directory given"])
            do {
                try report.requireHealthy()
                Issue.record("requireHealthy did not throw")
            } catch let error as DoctorError {
                #expect(error.description == """
                    tenant isolation check failed for role tenantkit_app (1 finding):
                      - [rls-not-forced] table public.runs has an org_id column but row-level security is not forced, so its owner bypasses it (ALTER TABLE ... FORCE ROW LEVEL SECURITY)
                    """)
            }
        }
    }
}

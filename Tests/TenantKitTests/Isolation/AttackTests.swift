import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The attacks of the isolation issue, against the real schema, as `tenantkit_app` unless a test says
/// otherwise. RLS facts already proven by TenantKitMigrationsTests/SchemaTests (plain SELECT/INSERT/UPDATE
/// across orgs, append-only audit log for app and owner, entry point grants) are not repeated.
@Suite struct AttackTests {
    // MARK: 1. The app role or a table is set up so that RLS does not hold: refuse to start.

    @Test func startUpCheckRefusesASuperuserAnOwnerAndATableWithoutForce() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let app = db.configuration.with(user: "tenantkit_app")
            #expect(try await LeakHarness.catalogSweep(configuration: app) == [])
            try await Doctor.check(configuration: app).requireHealthy()

            // Connected as the superuser: it bypasses RLS. The owner, which could switch RLS off,
            // cannot log in at all (a role that can become it is DoctorTests' appRoleThatCanBecomeTheOwner).
            let asSuperuser = try await LeakHarness.catalogSweep(configuration: db.configuration)
            #expect(asSuperuser.contains { $0.check == "app-role-superuser" && $0.subject == "role postgres" })
            let owner = await Iso.error(PostgresClientError.self) { try await PostgresConnection.connect(db.configuration.with(user: "tenantkit_owner")) }
            #expect(owner?.description.contains("role \"tenantkit_owner\" is not permitted to log in") == true)

            _ = try await Iso.withConnection(db.configuration) { try await $0.execute("ALTER TABLE runs NO FORCE ROW LEVEL SECURITY") }
            let error = await Iso.error(DoctorError.self) { try await Doctor.check(configuration: app).requireHealthy() }
            #expect(error?.report.findings.map(\.check) == [.rlsNotForced])
            #expect(error?.description.contains("table public.runs has an org_id column but row-level security is not forced") == true)
        }
    }

    // MARK: 3. One pooled connection: A, then B, then no org; after an error; after a cancel.

    @Test func aPooledConnectionCarriesNothingFromOneOrgToTheNext() async throws {
        try await Iso.withTwoOrgs(maxConnections: 1) { db, a, b, pool in
            let runs = RunsTable.table
            let scopeA = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let scopeB = OrgScope(orgID: b.id, actor: .user(b.userID), context: TestDatabase.context, on: pool)
            let pid = try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)

            func expectClean(_ when: String) async throws {
                #expect(try await scopeB.fetchAll(Select.from(runs).columns(runs.orgID), as: UUID.self) == [b.id], "\(when)")
                #expect(try await pool.fetchAll("SELECT org_id FROM runs", as: UUID.self) == [], "\(when)")
                #expect(try await pool.fetchAll("SELECT id FROM organizations", as: UUID.self) == [], "\(when)")
                #expect(try await pool.fetchOne("SELECT coalesce(current_setting('tenantkit.org_id', true), '')", as: String.self) == "", "\(when)")
                #expect(try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self) == pid, "\(when): same connection")
            }

            #expect(try await scopeA.fetchAll(Select.from(runs).columns(runs.orgID), as: UUID.self) == [a.id])
            try await expectClean("after a read as A")

            let failure = await Iso.error(PostgresError.self) {
                try await scopeA.transaction { tx async throws in
                    _ = try await tx.fetchAll(Select.from(runs).columns(runs.orgID), as: UUID.self)
                    return try await tx.fetchOne("SELECT 1 / (count(*) - count(*))::int FROM runs", as: Int.self)
                }
            }
            #expect(failure?.code == SQLState("22012"))
            try await expectClean("after an error as A")

            let slow = Task { try await scopeA.fetchAll("SELECT org_id FROM runs, pg_sleep(30) /* iso-cancel-3 */", as: UUID.self) }
            try await Iso.withConnection(db.configuration) { try await Iso.waitUntilRunning("iso-cancel-3", on: $0) }
            slow.cancel()
            _ = await Iso.error(CancellationError.self) { try await slow.value }
            try await expectClean("after a cancel mid-statement as A")
        }
    }

    // MARK: 4. No claim, an empty or malformed or forged one, an org the user is not in.

    @Test func aMissingEmptyOrMalformedOrgSeesNothingOrFailsClearly() async throws {
        try await Iso.withTwoOrgs { db, a, b, pool in
            for raw in [nil, ""] as [String?] {
                let visible = try await Iso.asApp(db, org: nil, raw: raw) { app async throws in
                    try await app.fetchAll("""
                        SELECT 'runs' FROM runs UNION ALL SELECT 'orgs' FROM organizations UNION ALL SELECT 'keys' FROM api_keys
                        UNION ALL SELECT 'ledger' FROM ecu_ledger UNION ALL SELECT 'audit' FROM audit_log
                        UNION ALL SELECT 'members' FROM memberships UNION ALL SELECT 'private items' FROM catalog_items WHERE org_id IS NOT NULL
                        """, as: String.self)
                }
                #expect(visible == [], "org setting \(raw.map { "'\($0)'" } ?? "unset")")
                // And nothing can be written.
                let write = await Iso.error(PostgresError.self) {
                    try await Iso.asApp(db, org: nil, raw: raw) { try await $0.execute("INSERT INTO audit_log (org_id, action) VALUES (\(a.id), 'forged')") }
                }
                #expect(write?.code == .insufficientPrivilege)
            }

            // A malformed claim, the old plain org id, or a claim whose MAC the attacker made up: a
            // claim proves nothing unless the key the app role cannot read signed it.
            let forged = "11" + String(repeating: "0", count: 8) + String(repeating: "a", count: 210)
            for malformed in ["not-a-claim", a.id.uuidString.lowercased(), "\(a.id.uuidString)' OR '1'='1", " ", forged] {
                let visible = try await Iso.asApp(db, org: nil, raw: malformed) { try await $0.fetchAll("SELECT org_id FROM runs", as: UUID.self) }
                #expect(visible == [], "\(malformed)")
            }

            // A well-formed org id that is not an organization of the user: nothing to see, nothing to write.
            let stranger = UUID()
            let scope = OrgScope(orgID: stranger, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            #expect(try await scope.fetchAll("SELECT org_id FROM runs UNION ALL SELECT id FROM organizations", as: UUID.self) == [])
            let ledger = CreditLedgerTable.table
            let write = await Iso.error(PostgresError.self) {
                try await scope.execute(Insert.into(ledger).values(ledger.amount.set(1_000), ledger.reason.set("free"), ledger.idempotencyKey.set("x")))
            }
            #expect(write?.code == .insufficientPrivilege)
            #expect(write?.message == "new row violates row-level security policy for table \"ecu_ledger\"")
            // And B's org, which A's admin is not a member of: the database checks membership itself.
            let intoB = OrgScope(orgID: b.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            #expect(try await intoB.fetchAll("SELECT org_id FROM runs UNION ALL SELECT id FROM organizations", as: UUID.self) == [])
        }
    }

    // MARK: 5. Moving rows, and INSERT / ON CONFLICT DO UPDATE with a foreign org_id.

    @Test func upsertsWithAForeignOrgAreRejectedAndChangeNothing() async throws {
        try await Iso.withTwoOrgs { db, a, b, pool in
            let shared = try await Iso.withConnection(db.configuration) {
                try await $0.fetchOne("SELECT id FROM users WHERE email = 'shared-member@harness.test'", as: UUID.self)
            }
            let attempts: [(String, PostgresQuery)] = [
                ("memberships", """
                    INSERT INTO memberships (org_id, user_id, role) VALUES (\(b.id), \(shared), 'admin')
                    ON CONFLICT (org_id, user_id) DO UPDATE SET role = 'admin'
                    """),
                ("catalog_items", """
                    INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (\(b.id), 'model', 'same-slug', 'pwned')
                    ON CONFLICT (org_id, slug) DO UPDATE SET name = 'pwned'
                    """),
                ("api_keys", """
                    INSERT INTO api_keys (org_id, id, name, prefix, key_hash)
                    SELECT \(b.id), gen_random_uuid(), 'pwned', 'tk_x', sha256('x'::bytea)
                    ON CONFLICT (org_id, id) DO UPDATE SET name = 'pwned'
                    """),
                ("org_email_domains", """
                    INSERT INTO org_email_domains (org_id, domain, enabled) VALUES (\(b.id), 'shared.harness.test', false)
                    ON CONFLICT (org_id, domain) DO UPDATE SET default_role = 'viewer'
                    """),
            ]
            for (table, statement) in attempts {
                let error = await Iso.error(PostgresError.self) { try await Iso.asApp(db, org: a.id) { try await $0.execute(statement) } }
                #expect(error?.code == .insufficientPrivilege, "\(table)")
                // Refused by policy, or earlier by a column the app may not write (memberships only
                // change through the entry points; a key's name and hash never change).
                let refused = ["new row violates row-level security policy", "permission denied for table"]
                #expect(refused.contains { error?.message.hasPrefix($0) == true }, "\(table): \(error?.message ?? "")")
            }

            // Through the builder the same upsert stays in A: it updates A's row with that slug, never B's.
            let items = CatalogItemsTable.table
            let scopeA = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let updated = try await scopeA.fetchAll(
                Insert.into(items).values(items.kind.set("model"), items.slug.set("same-slug"), items.name.set("renamed by A"))
                    .onConflict([items.slug], doUpdate: [items.name.set(items.name.excluded)])
                    .returning(items.orgID),
                as: UUID?.self)
            #expect(updated == [a.id])
            let foreign = await Iso.error(TenantSQLError.self) {
                try await scopeA.execute(Insert.into(items).values(items.orgID.set(b.id), items.kind.set("model"), items.slug.set("same-slug"), items.name.set("x")))
            }
            #expect(foreign?.kind == .foreignOrganization)

            try await Iso.withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchOne("SELECT role FROM memberships WHERE org_id = \(b.id) AND user_id = \(shared)", as: String.self) == "member")
                #expect(try await admin.fetchOne("SELECT name FROM catalog_items WHERE org_id = \(b.id) AND slug = 'same-slug'", as: String.self) == "Same name")
                #expect(try await admin.fetchOne("SELECT name FROM catalog_items WHERE org_id = \(a.id) AND slug = 'same-slug'", as: String.self) == "renamed by A")
                #expect(try await admin.fetchOne("SELECT count(*) FROM api_keys WHERE org_id = \(b.id)", as: Int.self) == 1)
            }

            // Moving a ledger row or an audit row is not even possible: no UPDATE for the app.
            for move: PostgresQuery in ["UPDATE ecu_ledger SET org_id = \(b.id)", "UPDATE ecu_accounts SET org_id = \(b.id)"] {
                let error = await Iso.error(PostgresError.self) { try await Iso.asApp(db, org: a.id) { try await $0.execute(move) } }
                #expect(error?.code == .insufficientPrivilege)
                #expect(error?.message.hasPrefix("permission denied for table") == true)
            }
        }
    }

    // MARK: 6. Existence oracles.

    @Test func constraintsAndReferencesRevealNothingAboutAnotherOrg() async throws {
        try await Iso.withTwoOrgs { db, a, b, _ in
            struct BOnly: Decodable { let item: UUID; let key: UUID; let run: UUID }
            let bOnly = try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.execute("INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (\(b.id), 'model', 'b-secret-slug', 'B secret')")
                return try await admin.fetchOne("""
                    SELECT (SELECT id FROM catalog_items WHERE slug = 'b-secret-slug') AS item,
                           (SELECT id FROM api_keys WHERE org_id = \(b.id)) AS key,
                           (SELECT id FROM runs WHERE org_id = \(b.id)) AS run
                    """, as: BOnly.self)
            }
            let publicItem = try await Iso.asApp(db, org: a.id) { try await $0.fetchOne("SELECT id FROM public_catalog_items", as: UUID.self) }

            // A slug only B uses is free in A: uniqueness is per org, so the insert tells A nothing.
            try await Iso.asApp(db, org: a.id) { app async throws in
                #expect(try await app.execute("INSERT INTO catalog_items (kind, slug, name) VALUES ('model', 'b-secret-slug', 'mine')") == 1)
                #expect(try await app.execute("INSERT INTO org_email_domains (domain) VALUES ('claimed-b.harness.test')") == 1)
            }
            // A duplicate in A's own org names A's values only.
            let duplicate = await Iso.error(PostgresError.self) {
                try await Iso.asApp(db, org: a.id) { try await $0.execute("INSERT INTO catalog_items (kind, slug, name) VALUES ('model', 'same-slug', 'x')") }
            }
            #expect(duplicate?.code == .uniqueViolation && duplicate?.constraint == "catalog_items_org_slug_key")
            // Under row-level security the server leaves the key's values out of the detail altogether.
            #expect(duplicate?.detail == nil)
            #expect(duplicate?.detailedDescription.contains(b.id.uuidString.lowercased()) == false)

            // Referencing B's item, key or run fails exactly as referencing an id that does not exist.
            func failure(_ statement: PostgresQuery) async -> PostgresError? {
                await Iso.error(PostgresError.self) { try await Iso.asApp(db, org: a.id) { try await $0.execute(statement) } }
            }
            let nobody = UUID()
            let cases: [(String, (UUID) -> PostgresQuery, UUID)] = [
                ("private catalog item", { "INSERT INTO runs (catalog_item_id, user_id) VALUES (\($0), \(a.userID))" }, bOnly.item),
                ("run", { "INSERT INTO ecu_ledger (amount, reason, idempotency_key, run_id) VALUES (-1, 'r', 'oracle', \($0))" }, bOnly.run),
            ]
            // Naming B's API key as a run's key is not even possible: the run's actor is the verified
            // principal, whatever the INSERT says (so there is no key reference to probe).
            let stamped = try await Iso.asApp(db, org: a.id) { app async throws in
                try await app.fetchOne(
                    "INSERT INTO runs (catalog_item_id, user_id, api_key_id) VALUES (\(publicItem), \(b.userID), \(bOnly.key)) RETURNING api_key_id IS NULL AND user_id = \(a.userID)",
                    as: Bool.self)
            }
            #expect(stamped)
            for (what, statement, foreignID) in cases {
                let foreign = await failure(statement(foreignID))
                let missing = await failure(statement(nobody))
                #expect(foreign?.code == .foreignKeyViolation, "\(what)")
                #expect(foreign?.code == missing?.code && foreign?.constraint == missing?.constraint, "\(what)")
                let normalize = { (text: String?) in
                    (text ?? "").replacingOccurrences(of: foreignID.uuidString.lowercased(), with: "<id>")
                        .replacingOccurrences(of: nobody.uuidString.lowercased(), with: "<id>")
                }
                #expect(normalize(foreign?.message) == normalize(missing?.message), "\(what)")
                #expect(normalize(foreign?.detail) == normalize(missing?.detail), "\(what)")
                #expect(foreign?.detailedDescription.contains(b.id.uuidString.lowercased()) == false, "\(what)")
            }
        }
    }

    // MARK: 7. Views and functions.

    @Test func noViewOrDefinerFunctionOpensAWayAround() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                struct Definer: Decodable { let name: String; let config: [String]?; let publicExecute: Bool }
                let definers = try await app.fetchAll("""
                    SELECT p.proname::text AS name, p.proconfig AS config,
                           EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                                   WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public_execute
                    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1
                    """, as: Definer.self)
                #expect(definers.count >= 8)
                for definer in definers {
                    #expect(definer.config?.contains("search_path=pg_catalog, pg_temp") == true, "\(definer.name)")
                    #expect(!definer.publicExecute, "\(definer.name)")
                }
                #expect(try await app.fetchOne("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('v', 'm')", as: Int.self) == 0)

                // The app cannot add its own view or definer function to the schema.
                for ddl: PostgresQuery in [
                    "CREATE VIEW all_runs AS SELECT * FROM runs",
                    "CREATE FUNCTION peek() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM runs'",
                ] {
                    let error = await Iso.error(PostgresError.self) { try await app.execute(ddl) }
                    #expect(error?.code == .insufficientPrivilege)
                    #expect(error?.message == "permission denied for schema public")
                }
            }

            // Were an owner's view added without security_invoker, the sweep names it.
            try await Iso.withConnection(db.configuration) { owner async throws in
                try await owner.executeScript(unsafeSQL: """
                    SET ROLE tenantkit_owner;
                    CREATE VIEW run_costs AS SELECT org_id, cost FROM runs;
                    GRANT SELECT ON run_costs TO tenantkit_app;
                    RESET ROLE
                    """)
            }
            let findings = try await LeakHarness.catalogSweep(configuration: db.configuration.with(user: "tenantkit_app"))
            #expect(findings.map(\.check) == ["view-without-security-invoker"])
            #expect(findings.first?.subject == "view public.run_costs")
        }
    }

    /// The entry points read across orgs through policies for `tenantkit_owner` switched on by
    /// `tenantkit.cross_org_read`. Any role may set that placeholder setting: for the app it must change nothing.
    @Test func theCrossOrgReadSwitchOpensNothingToTheApp() async throws {
        try await Iso.withTwoOrgs { db, a, _, _ in
            let seen = try await Iso.asApp(db, org: a.id) { app async throws in
                #expect(try await app.fetchOne("SELECT set_config('tenantkit.cross_org_read', 'on', true)", as: String.self) == "on")
                return try await app.fetchAll("""
                    SELECT DISTINCT org_id FROM (
                        SELECT org_id FROM memberships UNION ALL SELECT org_id FROM api_keys UNION ALL SELECT org_id FROM invitations
                        UNION ALL SELECT org_id FROM org_email_domains UNION ALL SELECT id FROM organizations) t
                    """, as: UUID.self)
            }
            #expect(seen == [a.id])
        }
    }

    // MARK: 8. Prepared statements and cached plans reused across orgs.

    @Test func cachedStatementsAndGenericPlansReturnOnlyTheCurrentOrgsRows() async throws {
        try await Iso.withTwoOrgs(maxConnections: 1) { _, a, b, pool in
            // Generic plans from the first execution on: a plan built for A is reused for B.
            try await pool.execute("SET plan_cache_mode = force_generic_plan")
            let runs = RunsTable.table, items = CatalogItemsTable.table
            let prepared = try await pool.withConnection { $0.statementsPrepared }
            var lastPrepared = prepared
            for round in 0..<4 {
                for org in [a, b, a] {
                    let scope = OrgScope(orgID: org.id, actor: .user(org.userID), context: TestDatabase.context, on: pool)
                    #expect(try await scope.fetchAll(Select.from(runs).columns(runs.orgID), as: UUID.self) == [org.id])
                    // Raw SQL with no org bind at all: only the policy's InitPlan tells the orgs apart.
                    #expect(try await scope.fetchAll("SELECT org_id FROM runs", as: UUID.self) == [org.id])
                    #expect(try await scope.fetchAll("SELECT DISTINCT org_id FROM catalog_items WHERE org_id IS NOT NULL", as: UUID.self) == [org.id])
                    #expect(try await scope.fetchAll(Select.from(items).columns(items.slug).where(items.orgID.isNotNull), as: String.self) == ["same-slug"])
                }
                let now = try await pool.withConnection { $0.statementsPrepared }
                if round > 0 { #expect(now == lastPrepared, "statements are reused, not re-prepared per org") }
                lastPrepared = now
            }
            #expect(try await pool.fetchOne("SHOW plan_cache_mode", as: String.self) == "force_generic_plan")
        }
    }

    // MARK: 9. A non-leakproof function in WHERE sees only rows the policy lets through.

    @Test func leakyFunctionsInWhereNeverSeeHiddenRows() async throws {
        try await Iso.withTwoOrgs { db, a, b, _ in
            _ = try await Iso.withConnection(db.configuration) {
                try await $0.execute("INSERT INTO catalog_items (org_id, kind, slug, name) VALUES (\(b.id), 'model', 'b-secret', 'B secret')")
            }
            // The app may not create functions, not even temporary ones.
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                let refused = await Iso.error(PostgresError.self) {
                    try await app.execute("CREATE FUNCTION pg_temp.spy(v text) RETURNS boolean LANGUAGE sql AS 'SELECT true'")
                }
                #expect(refused?.code == .insufficientPrivilege)
            }
            // Were there a non-leakproof function it may call (made here by the superuser), it would see
            // only the rows the policy lets through.
            try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.executeScript(unsafeSQL: """
                    CREATE FUNCTION public.spy(v text) RETURNS boolean LANGUAGE plpgsql VOLATILE COST 0.0001 AS $$
                    BEGIN
                        PERFORM set_config('spy.seen', coalesce(current_setting('spy.seen', true), '') || '|' || v, true);
                        RETURN true;
                    END $$;
                    GRANT EXECUTE ON FUNCTION public.spy(text) TO tenantkit_app
                    """)
            }
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                let claim = try TestDatabase.context.statement(orgID: a.id, actor: .user(a.userID), backendPID: app.backendPID)
                let seen: String = try await app.withTransaction(prelude: [claim]) { tx async throws in
                    _ = try await tx.query("SELECT id FROM catalog_items WHERE public.spy(name) AND public.spy(coalesce(org_id::text, 'public'))")
                    _ = try await tx.query("SELECT id FROM runs WHERE public.spy(org_id::text)")
                    _ = try await tx.query("SELECT 1 FROM api_keys WHERE public.spy(encode(key_hash, 'hex'))")
                    return try await tx.fetchOne("SELECT current_setting('spy.seen')", as: String.self)
                }
                #expect(!seen.contains("B secret"))
                #expect(!seen.contains(b.id.uuidString.lowercased()))
                #expect(seen.contains(a.id.uuidString.lowercased()))  // the spy did run
                #expect(!seen.contains(Iso.sha256(b.apiKey).map { String(format: "%02x", $0) }.joined()))

                // A cast that fails shows the first value it chokes on: never one of B's.
                let claimAgain = try TestDatabase.context.statement(orgID: a.id, actor: .user(a.userID), backendPID: app.backendPID)
                let error = await Iso.error(PostgresError.self) {
                    try await app.withTransaction(prelude: [claimAgain]) { tx async throws in
                        try await tx.query("SELECT 1 FROM catalog_items WHERE name::int > 0")
                    }
                }
                #expect(error?.code == .invalidTextRepresentation)
                #expect(error?.message.contains("B secret") == false)
            }
        }
    }

    // MARK: 10. No global sequence or counter.

    @Test func noGlobalSequenceOrCounterRevealsAnotherOrgsActivity() async throws {
        try await Iso.withTwoOrgs(publishingStatements: false) { db, a, b, pool in
            try await Iso.withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchOne("SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace", as: Int.self) == 0)
                #expect(try await admin.fetchOne("""
                    SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                    WHERE c.relnamespace = 'public'::regnamespace AND a.attidentity <> '' AND NOT a.attisdropped
                    """, as: Int.self) == 0)
            }
            // B appends a lot; A's audit sequence and ledger do not move.
            let scopeA = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let scopeB = OrgScope(orgID: b.id, actor: .user(b.userID), context: TestDatabase.context, on: pool)
            let audit = AuditLogTable.table, ledger = CreditLedgerTable.table
            for i in 0..<7 {
                try await scopeB.execute(Insert.into(audit).values(audit.action.set("b.busy"), audit.target.set("\(i)")))
                try await scopeB.execute(Insert.into(ledger).values(ledger.amount.set(-1), ledger.reason.set("b"), ledger.idempotencyKey.set("b-\(i)")))
            }
            let seq = try await scopeA.fetchOne(Insert.into(audit).values(audit.action.set("a.once")).returning(audit.seq), as: Int64.self)
            #expect(seq == 3)  // the org's creation and the seeded row, then this one
            let after = try await scopeA.fetchOne(
                Insert.into(ledger).values(ledger.amount.set(-1), ledger.reason.set("a"), ledger.idempotencyKey.set("a-1")).returning(ledger.balanceAfter),
                as: Int64.self)
            #expect(after == 94)
            // The chain heads are not the app's to read.
            let heads = await Iso.error(PostgresError.self) { try await scopeA.fetchAll("SELECT last_seq FROM audit_chain_heads", as: Int64.self) }
            #expect(heads?.message == "permission denied for table audit_chain_heads")

            // Other sessions of the same role do not show their SQL (track_activities is off for the
            // app role), and the org id would be a bind anyway, never text.
            let slow = Task { try await scopeB.fetchAll("SELECT org_id FROM runs, pg_sleep(30) /* iso-activity */", as: UUID.self) }
            try await Iso.withConnection(db.configuration) { admin async throws in
                while try await admin.fetchOne(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'tenantkit_app' AND wait_event = 'PgSleep'", as: Int.self) == 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { observer async throws in
                let texts = try await observer.fetchAll(
                    "SELECT coalesce(query, '') FROM pg_stat_activity WHERE usename = 'tenantkit_app' AND pid <> pg_backend_pid()", as: String.self)
                #expect(!texts.isEmpty)
                #expect(!texts.contains { $0.contains("iso-activity") })
                #expect(!texts.contains { $0.contains(b.id.uuidString.lowercased()) })
            }
            slow.cancel()
            _ = try? await slow.value
        }
    }

    // MARK: 11. The audit chain verifier catches edits, deletions, insertions and reordering.

    @Test(arguments: ["edit", "delete", "delete last", "insert", "reorder"])
    func auditChainVerifierCatchesTampering(tampering: String) async throws {
        try await Iso.withTwoOrgs { db, a, b, pool in
            let scopeA = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let audit = AuditLogTable.table
            // seq 1 is the org's creation, 2 the seed's entry, 3...6 these.
            for i in 3...6 { try await scopeA.execute(Insert.into(audit).values(audit.action.set("step"), audit.target.set("\(i)"))) }
            #expect(try await scopeA.fetchOne("SELECT tenantkit_audit_verify()", as: Int64?.self) == nil)

            let (statement, expected): (PostgresQuery, Int64) = switch tampering {
            case "edit": ("UPDATE audit_log SET target = 'edited' WHERE org_id = \(a.id) AND seq = 4", 4)
            case "delete": ("DELETE FROM audit_log WHERE org_id = \(a.id) AND seq = 4", 4)
            case "delete last": ("DELETE FROM audit_log WHERE org_id = \(a.id) AND seq = 6", 6)
            case "insert": ("""
                INSERT INTO audit_log (org_id, seq, occurred_at, action, target, details, prev_hash, hash)
                SELECT org_id, 7, occurred_at, 'forged', 'x', '{}', hash,
                       tenantkit_audit_row_hash(hash, org_id, 7, occurred_at, NULL, NULL, 'forged', 'x', '{}')
                FROM audit_log WHERE org_id = \(a.id) AND seq = 6
                """, 7)
            default: ("""
                UPDATE audit_log t SET action = s.action, target = s.target, occurred_at = s.occurred_at,
                       prev_hash = s.prev_hash, hash = s.hash, actor_user_id = s.actor_user_id
                FROM audit_log s
                WHERE t.org_id = \(a.id) AND s.org_id = t.org_id AND ((t.seq, s.seq) IN ((3, 4), (4, 3)))
                """, 3)
            }
            // As the superuser with triggers off: the only way around the append-only triggers.
            try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.withTransaction { tx async throws in
                    try await tx.execute("SET LOCAL session_replication_role = replica")
                    #expect(try await tx.execute(statement) >= 1)
                }
            }
            #expect(try await scopeA.fetchOne("SELECT tenantkit_audit_verify()", as: Int64?.self) == expected)
            let scopeB = OrgScope(orgID: b.id, actor: .user(b.userID), context: TestDatabase.context, on: pool)
            #expect(try await scopeB.fetchOne("SELECT tenantkit_audit_verify()", as: Int64?.self) == nil)
        }
    }

    // MARK: 12. Injection through strings: data, never SQL.

    @Test func injectionStringsAreStoredAsData() async throws {
        let payloads = [
            "x'); DROP TABLE runs; --", "' OR '1'='1", "\"; DELETE FROM memberships; --", "$1", "\\'; SELECT pg_sleep(10); --",
            "Robert'); SET tenantkit.org_id = 'x", "name\u{2019}s", "💥'--",
        ]
        try await Iso.withTwoOrgs { db, a, b, pool in
            let scopeA = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let items = CatalogItemsTable.table, orgs = OrganizationsTable.table
            struct Meta: Codable, Equatable { let note: String }
            for (i, payload) in payloads.enumerated() {
                let meta = JSONB([payload: Meta(note: payload)])
                try await scopeA.execute(Insert.into(items).values(
                    items.kind.set("model"), items.slug.set("inj-\(i)"), items.name.set(payload), items.metadata(as: [String: Meta].self).set(meta)))
                let back = try await scopeA.fetchOne(Select.from(items).columns(items.name).where(items.slug == "inj-\(i)"), as: String.self)
                #expect(back == payload)
                #expect(try await scopeA.fetchAll(Select.from(items).columns(items.slug).where(items.name == payload), as: String.self) == ["inj-\(i)"])
                #expect(try await scopeA.fetchAll(Select.from(items).columns(items.slug).where(items.name.like(payload)), as: String.self).count <= 1)
                try await scopeA.execute(Update.table(orgs).set(orgs.name.set(payload)))
                #expect(try await scopeA.fetchOne(Select.from(orgs).columns(orgs.name), as: String.self) == payload)

                // The entry points take them as data too.
                try await Iso.asApp(db, org: nil, user: a.userID) { app async throws in
                    let org = try await app.fetchOne("SELECT tenantkit_create_organization(\(payload))", as: UUID.self)
                    #expect(try await app.fetchAll("SELECT name FROM tenantkit_user_organizations() WHERE org_id = \(org)", as: String.self) == [payload])
                    #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key(\(payload), sha256(convert_to(\(payload), 'UTF8')))", as: UUID.self) == [])
                }
                let invite = await Iso.error(PostgresError.self) {
                    try await Iso.asApp(db, org: nil, user: a.userID) { try await $0.query("SELECT * FROM tenantkit_accept_invitation(\(payload))") }
                }
                #expect(invite?.code == SQLState("TK001"))
            }
            // The schema and B's data are as they were.
            try await Iso.withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchOne("SELECT count(*) FROM runs", as: Int.self) == 2)
                #expect(try await admin.fetchOne("SELECT count(*) FROM memberships WHERE org_id = \(b.id)", as: Int.self) == 2)
                #expect(try await admin.fetchOne("SELECT name FROM organizations WHERE id = \(b.id)", as: String.self) == "Overlapping Org")
            }
            // TODO(issue 5): the same payloads through every repository method that takes a string.
        }
    }

    // MARK: 13. API keys: revoked, another org's, truncated, padded: rejected alike.

    @Test func apiKeyLookupRejectsRevokedTruncatedAndPaddedKeysAlike() async throws {
        try await Iso.withTwoOrgs { db, a, b, pool in
            let keyA = a.apiKey, keyB = b.apiKey
            struct Found: Decodable, Equatable { let orgID: UUID; let apiKeyID: UUID }
            let (idA, _) = try await Iso.withConnection(db.configuration) { admin async throws in
                (try await admin.fetchOne("SELECT id FROM api_keys WHERE org_id = \(a.id)", as: UUID.self),
                 try await admin.fetchOne("SELECT id FROM api_keys WHERE org_id = \(b.id)", as: UUID.self))
            }
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                func lookUp(_ prefix: String, _ key: String) async throws -> [Found] {
                    try await app.fetchAll("SELECT org_id, api_key_id FROM tenantkit_authenticate_api_key(\(prefix), \(Iso.sha256(key)))", as: Found.self)
                }
                #expect(try await lookUp(a.apiKeyPrefix, keyA) == [Found(orgID: a.id, apiKeyID: idA)])
                // A key authenticates as its own org, whatever org the caller has active; no hash is returned.
                let asB = try await app.withTransaction(prelude: [try TestDatabase.context.statement(orgID: a.id, actor: .user(a.userID), backendPID: app.backendPID)]) { tx async throws in
                    try await tx.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key(\(b.apiKeyPrefix), \(Iso.sha256(keyB)))", as: UUID.self)
                }
                #expect(asB == [b.id])
                // A's prefix with B's key (or the reverse) is nothing: prefix and hash must both match.
                #expect(try await lookUp(a.apiKeyPrefix, keyB) == [])
                for variant in [String(keyA.dropLast()), keyA + " ", " " + keyA, keyA + "\n", keyA.uppercased(), "", a.apiKeyPrefix] {
                    #expect(try await lookUp(a.apiKeyPrefix, variant) == [], "\(variant.debugDescription)")
                }
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key(\(a.apiKeyPrefix), \(Data([1, 2, 3])))", as: UUID.self) == [])
            }
            // A key's claim (what a request presenting it sends) opens its org only with the right key.
            func keyScope(_ presented: String) -> OrgScope {
                OrgScope(orgID: a.id, actor: .apiKey(idA, presentedHash: SHA256.digest(Array(presented.utf8))), context: TestDatabase.context, on: pool)
            }
            #expect(try await keyScope(keyA).fetchAll("SELECT DISTINCT org_id FROM runs", as: UUID.self) == [a.id])
            for wrong in [keyB, keyA + " ", String(keyA.dropLast())] {
                let refused = await Iso.error(PostgresError.self) { try await keyScope(wrong).fetchAll("SELECT org_id FROM runs", as: UUID.self) }
                #expect(refused?.code == SQLState("TK007"), "\(wrong.debugDescription)")
            }
            _ = try await Iso.asApp(db, org: a.id) { try await $0.execute("UPDATE api_keys SET revoked_at = now()") }
            try await Iso.withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
                #expect(try await app.fetchAll("SELECT org_id FROM tenantkit_authenticate_api_key(\(a.apiKeyPrefix), \(Iso.sha256(keyA)))", as: UUID.self) == [])
            }
            let revoked = await Iso.error(PostgresError.self) { try await keyScope(keyA).fetchAll("SELECT org_id FROM runs", as: UUID.self) }
            #expect(revoked?.code == SQLState("TK007"))
        }
    }

    // MARK: 14. Invitations: replayed, another email, expired, revoked.

    @Test func invitationTokensAreSingleUseForTheirEmailUntilExpiry() async throws {
        try await Iso.withTwoOrgs { db, a, b, _ in
            struct Users: Decodable { let invitee: UUID; let other: UUID }
            let users = try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.fetchOne("""
                    WITH i AS (INSERT INTO users (email) VALUES ('INVITEE@harness.test') RETURNING id),
                         o AS (INSERT INTO users (email) VALUES ('someone-else@harness.test') RETURNING id)
                    SELECT (SELECT id FROM i) AS invitee, (SELECT id FROM o) AS other
                    """, as: Users.self)
            }
            func accept(_ user: UUID, _ token: String) async throws -> [UUID] {
                try await Iso.asApp(db, org: nil, user: user) {
                    try await $0.fetchAll("SELECT org_id FROM tenantkit_accept_invitation(\(token))", as: UUID.self)
                }
            }
            func code(_ user: UUID, _ token: String) async -> SQLState? {
                let error = await Iso.error(PostgresError.self) { try await accept(user, token) }
                return error?.code
            }
            func memberships(_ user: UUID) async throws -> Int {
                try await Iso.withConnection(db.configuration) { try await $0.fetchOne("SELECT count(*) FROM memberships WHERE user_id = \(user)", as: Int.self) }
            }

            #expect(await code(users.other, a.invitationToken) == SQLState("TK004"))  // another email
            #expect(try await memberships(users.other) == 0)
            #expect(try await accept(users.invitee, a.invitationToken) == [a.id])    // case-insensitive match
            #expect(await code(users.invitee, a.invitationToken) == SQLState("TK003"))  // replayed
            #expect(await code(users.invitee, a.invitationToken + " ") == SQLState("TK001"))  // padded
            #expect(await code(users.invitee, String(a.invitationToken.dropLast())) == SQLState("TK001"))    // truncated

            _ = try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.execute("UPDATE invitations SET created_at = now() - interval '8 days', expires_at = now() - interval '1 day' WHERE org_id = \(b.id)")
            }
            #expect(await code(users.invitee, b.invitationToken) == SQLState("TK002"))  // expired
            _ = try await Iso.withConnection(db.configuration) { admin async throws in
                try await admin.execute("UPDATE invitations SET expires_at = now() + interval '1 day', revoked_at = now() WHERE org_id = \(b.id)")
            }
            #expect(await code(users.invitee, b.invitationToken) == SQLState("TK003"))  // revoked
            #expect(try await memberships(users.invitee) == 1)
            // TODO(issue 5): the same through the invitations repository.
        }
    }

    // MARK: 15. Default descriptions carry no bind values or other orgs' data.

    @Test func defaultDescriptionsCarryNoValues() async throws {
        try await Iso.withTwoOrgs { db, a, b, pool in
            let secret = "secret-\(UUID().uuidString)"
            let scopeA = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let items = CatalogItemsTable.table
            let query = try scopeA.render(Select.from(items).columns(items.id).where(items.name == secret))
            #expect(!"\(query)".contains(secret) && !"\(query)".contains(a.id.uuidString.lowercased()))
            #expect(!"\(try scopeA.contextStatement(backendPID: 1))".contains(a.id.uuidString.lowercased()))

            var errors: [any Error] = []
            // Unique violation (its detail quotes the key), a check violation, an RLS violation, a trigger's message.
            for statement: PostgresQuery in [
                "INSERT INTO catalog_items (kind, slug, name) VALUES ('model', 'same-slug', \(secret))",
                "INSERT INTO catalog_items (kind, slug, name) VALUES ('model', \(secret), 'x')",
                "INSERT INTO api_keys (org_id, name, prefix, key_hash) VALUES (\(b.id), \(secret), 'p', sha256('k'))",
                "INSERT INTO ecu_ledger (amount, reason, idempotency_key) VALUES (-1000000, \(secret), \(secret))",
                "SELECT tenantkit_create_user(\(secret), NULL)",
            ] {
                if let error = await Iso.error(PostgresError.self, { try await scopeA.execute(statement) }) { errors.append(error) }
            }
            errors.append(await Iso.error(TenantSQLError.self) {
                try await scopeA.execute(Insert.into(items).values(items.orgID.set(b.id), items.kind.set("m"), items.slug.set(secret), items.name.set(secret)))
            } ?? IsoFailure())
            #expect(errors.count == 6)
            for error in errors {
                let text = "\(error)"
                #expect(!text.contains(secret), "\(text)")
                #expect(!text.contains(b.id.uuidString.lowercased()) && !text.contains(a.id.uuidString.lowercased()), "\(text)")
            }
            // Tables under RLS get no key values from the server at all (users too, since 0013).
            #expect((errors[0] as? PostgresError)?.detail == nil)
            #expect((errors[4] as? PostgresError)?.code == .checkViolation)
            #expect((errors[4] as? PostgresError)?.detail == nil)
            _ = db
        }
    }
}

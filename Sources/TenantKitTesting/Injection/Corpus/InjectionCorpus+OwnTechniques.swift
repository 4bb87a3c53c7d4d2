import TenantKit
import TenantSQL

extension InjectionCorpus {
    /// Techniques beyond the review: DO blocks, DDL, role switching, COPY, loopback connections,
    /// large objects, the catalog's own secrets, role defaults, error and uniqueness oracles.
    static let ownTechniques: [InjectionAttack] = [
        InjectionAttack(
            "DO block: set B's org and join B as admin",
            finding: .beyondTheReview,
            steps: .statements("""
                DO $$ BEGIN
                    PERFORM set_config('tenantkit.org_id', '{{org_b}}', true);
                    INSERT INTO memberships (org_id, user_id, role) VALUES ('{{org_b}}', '{{me}}', 'admin');
                END $$
                """)),
        InjectionAttack(
            "DDL as the app: functions, views, policies, triggers, grants, RLS switches",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: .statements(
                "CREATE FUNCTION public.tk_peek() RETURNS SETOF organizations LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM organizations'",
                "CREATE VIEW public.tk_all_orgs AS SELECT * FROM organizations",
                "CREATE POLICY tk_open ON runs USING (true)",
                "ALTER TABLE audit_log DISABLE TRIGGER USER",
                "ALTER TABLE runs NO FORCE ROW LEVEL SECURITY",
                "GRANT SELECT ON audit_chain_heads TO tenantkit_app",
                "CREATE SCHEMA tk_attacker",
                "CREATE EXTENSION IF NOT EXISTS dblink",
                "DROP TABLE runs"
            )),
        InjectionAttack(
            "switch role: SET ROLE and SET SESSION AUTHORIZATION to the owner or a superuser",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: [
                .transaction(["SET LOCAL ROLE tenantkit_owner", "SELECT id, name FROM organizations"]),
                .transaction(["SET SESSION AUTHORIZATION tenantkit_owner", "SELECT id, name FROM organizations"]),
                .transaction(["SET ROLE postgres", "SELECT id, name FROM organizations"]),
                .transaction(["SET session_replication_role = replica", "DELETE FROM audit_log"]),
                .transaction(["SET LOCAL row_security = off", "SELECT id, name FROM organizations"]),
            ]),
        InjectionAttack(
            "COPY and server files: export to a file, import from a program, read a file",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: .statements(
                "COPY (SELECT * FROM users) TO '/tmp/tenantkit-exfiltrated.csv'",
                "COPY users FROM PROGRAM 'id'",
                "SELECT pg_read_file('/etc/passwd')",
                "SELECT pg_ls_dir('.')",
                "COPY (SELECT id, name FROM organizations) TO STDOUT"
            )),
        InjectionAttack(
            "loopback connections: dblink and postgres_fdw to the same database as a superuser",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: .statements(
                "SELECT * FROM dblink('dbname={{database}} user=postgres', 'SELECT id, name FROM organizations') AS t(id uuid, name text)",
                "CREATE SERVER tk_loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname '{{database}}')"
            )),
        InjectionAttack(
            "large objects: import a server file, read every large object",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: .statements(
                "SELECT lo_import('/etc/passwd')",
                "SELECT oid, lomowner FROM pg_largeobject_metadata",
                "SELECT loid, pageno, data FROM pg_largeobject"
            )),
        InjectionAttack(
            "dump every readable table with query_to_xml, no plpgsql needed",
            finding: .beyondTheReview,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: .statements("""
                SELECT c.relname, query_to_xml(format('SELECT * FROM %I.%I', n.nspname, c.relname), true, false, '')
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'v', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                  AND n.nspname !~ '^pg_(toast_)?temp_' AND has_table_privilege(c.oid, 'SELECT')
                """)),
        InjectionAttack(
            "read the catalog for secrets: function bodies, policies, settings, role defaults",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: .statements(
                """
                SELECT n.nspname, p.proname, p.prosrc, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                """,
                "SELECT polname, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) FROM pg_policy",
                "SELECT name, setting FROM pg_settings WHERE name LIKE 'tenantkit%'",
                "SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting",
                "SELECT datname, datacl::text FROM pg_database",
                "SELECT current_setting('tenantkit.claim', true), current_setting('tenantkit.context_key', true)"
            )),
        InjectionAttack(
            "end the scope's transaction early with COMMIT, then keep going without a context",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: [
                .transaction([
                    "COMMIT",
                    "SELECT id, name FROM organizations",
                    "SELECT org_id, user_id, role FROM memberships",
                    "SELECT set_config('tenantkit.org_id', '{{org_b}}', false)",
                ]),
            ]),
        InjectionAttack(
            "change the app role's defaults in this database (statement_timeout) for every later connection",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            expectation: .residual("PostgreSQL lets every role set its own per-database defaults (ALTER ROLE ... IN DATABASE ... SET); no privilege revokes it"),
            steps: .statements(
                "ALTER ROLE tenantkit_app IN DATABASE \"{{database}}\" SET statement_timeout = '1ms'",
                "ALTER ROLE tenantkit_app IN DATABASE \"{{database}}\" SET tenantkit.org_id = '{{org_b}}'"
            )),
        InjectionAttack(
            "role defaults that would undo the hardening: publish SQL text again, skip triggers",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: .statements(
                "ALTER ROLE tenantkit_app RESET track_activities",
                "ALTER ROLE tenantkit_app IN DATABASE \"{{database}}\" SET track_activities = on",
                "ALTER ROLE tenantkit_app IN DATABASE \"{{database}}\" SET session_replication_role = replica",
                "ALTER ROLE tenantkit_app RESET ALL"
            )),
        InjectionAttack(
            "PREPARE TRANSACTION: keep the scope's transaction, its locks and its claim past the lease",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: [
                .transaction([
                    "LOCK TABLE memberships IN SHARE MODE",
                    "PREPARE TRANSACTION 'tk_injection_kept'",
                ]),
            ]),
        InjectionAttack(
            "PREPARE TRANSACTION of a scope that touched no table: an advisory lock and a prepared-transaction slot kept past the lease",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: [
                // On Citus a transaction that reached no worker is prepared on the coordinator
                // alone, which Citus's "2PC in transactions involving multiple servers" check allows.
                .transaction([
                    "SELECT pg_advisory_xact_lock(hashtext('tenantkit'))",
                    "PREPARE TRANSACTION 'tk_injection_kept_local'",
                ]),
            ]),
        InjectionAttack(
            "PREPARE TRANSACTION after an injected COMMIT: a transaction outside any scope, its table lock kept past the lease",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: [
                .transaction([
                    "COMMIT",
                    "BEGIN",
                    "LOCK TABLE memberships IN SHARE MODE",
                    "PREPARE TRANSACTION 'tk_injection_kept_after_commit'",
                ]),
            ]),
        InjectionAttack(
            "Citus's remote commands: SQL on every worker as the app role, where no prepare guard runs",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: .statements(
                "SELECT * FROM run_command_on_workers($$BEGIN; SELECT pg_advisory_xact_lock(hashtext('tenantkit')); PREPARE TRANSACTION 'tk_injection_on_workers'$$)",
                "SELECT * FROM run_command_on_placements('memberships', $$SELECT count(*) FROM %s$$)",
                "SELECT * FROM run_command_on_all_nodes($$ALTER ROLE tenantkit_app SET track_activities = on$$)"
            )),
        InjectionAttack(
            "Citus's broadcast_intermediate_result: its result id is spliced unquoted into a COPY on every worker",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: .statements(
                "SELECT broadcast_intermediate_result($$x\" FROM STDIN WITH (format result); PREPARE TRANSACTION 'tk_injection_broadcast'; --$$, 'SELECT 1')"
            )),
        InjectionAttack(
            "Citus forwards a SET LOCAL's whole text to the workers, which read it as two statements: PREPARE TRANSACTION there",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            steps: [
                // The coordinator reads one statement (a backslash escapes the quote with
                // standard_conforming_strings off); a worker's session has it on and reads two.
                .transaction([
                    "SET LOCAL citus.propagate_set_commands = 'local'",
                    "SET standard_conforming_strings = off",
                    "SELECT count(*) FROM memberships WHERE org_id = '{{org_a}}'",
                    "SET LOCAL tk_injection.x = 'a\\'; LOCK TABLE memberships IN SHARE MODE; PREPARE TRANSACTION $$tk_injection_forwarded$$; --'",
                ]),
            ]),
        InjectionAttack(
            "the same, prepared under a name shaped like Citus's own two-phase commits, which the guard lets through",
            finding: .beyondTheReview,
            attackers: [.viewerOfA],
            expectation: .residual("a transaction named citus_<group>_<pid>_<n>_<n> for a group of the cluster is Citus's to end: its recovery rolls back every such transaction it did not record, within citus.recover_2pc_interval (60 s by default)"),
            steps: [
                .transaction([
                    "SET LOCAL citus.propagate_set_commands = 'local'",
                    "SET standard_conforming_strings = off",
                    "SELECT count(*) FROM memberships WHERE org_id = '{{org_a}}'",
                    "SET LOCAL tk_injection.x = 'a\\'; PREPARE TRANSACTION $$citus_0_99999_123456789_0$$; --'",
                ]),
            ]),
        InjectionAttack(
            "the public catalog: add, deface and delete its items",
            finding: .beyondTheReview,
            attackers: [.adminOfA, .apiKeyOfA],
            steps: .statements(
                "INSERT INTO public_catalog_items (kind, slug, name) VALUES ('model', 'phish', 'Log in again at evil.test')",
                "UPDATE public_catalog_items SET name = 'Log in again at evil.test'",
                "DELETE FROM public_catalog_items"
            )),
        InjectionAttack(
            "an own item under a public item's id: every run of it is filed as a run of the public one",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: .statements(
                "INSERT INTO catalog_items (id, kind, slug, name) VALUES ('{{public_item}}', 'model', 'twin', 'Twin')",
                "UPDATE catalog_items SET id = '{{public_item}}'"
            ) + [
                .swift("the public item is still one item in A's catalog") { context in
                    let c = CatalogItemsTable.table
                    let rows = try await context.attackerScope().query(
                        Select.from(c).columns(c.id).where(c.id == context.world.publicItem))
                    if rows.count != 1 { throw InjectionBreach("\(rows.count) catalog items of A's answer to the public item's id") }
                    return []
                },
            ]),
        InjectionAttack(
            "per-org uniqueness: B's private slug is as free in A as any other",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: [
                .oracle(statements: ["INSERT INTO catalog_items (kind, slug, name) VALUES ('model', '{{probe}}', 'probe')"],
                        secret: InjectionWorld.Fixture.privateSlugOfB, decoy: "no-such-slug-0000"),
            ]),
        InjectionAttack(
            "foreign keys: referencing B's private item fails like referencing no item",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            steps: [
                .oracle(statements: ["INSERT INTO runs (catalog_item_id, cost, user_id) VALUES ('{{probe}}', 0, '{{me}}')"],
                        secret: "{{b_item}}", decoy: "00000000-0000-4000-8000-000000000000"),
            ]),
        InjectionAttack(
            "global email uniqueness: signing B's admin's email up again is refused",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            expectation: .residual("emails are unique across orgs by design, so a sign-up reveals that an address is taken"),
            steps: [
                .oracle(statements: ["INSERT INTO users (email) VALUES ('{{probe}}')"],
                        secret: "{{email_b}}", decoy: "nobody-0000@vistaline.test"),
                // Sign-up is the entry point since 0014.
                .oracle(statements: ["SELECT tenantkit_create_user('{{probe}}', 'probe')"],
                        secret: "{{email_b}}", decoy: "nobody-0000@vistaline.test"),
            ]),
        InjectionAttack(
            "global key-prefix uniqueness: a key with B's prefix is refused",
            finding: .beyondTheReview,
            attackers: [.adminOfA],
            expectation: .residual("key prefixes are unique across orgs by design; a prefix is visible, not secret"),
            steps: [
                .oracle(statements: ["INSERT INTO api_keys (name, prefix, key_hash) VALUES ('probe', '{{probe}}', sha256('probe'::bytea))"],
                        secret: "{{b_key_prefix}}", decoy: "tk_00000000"),
            ]),
    ]
}

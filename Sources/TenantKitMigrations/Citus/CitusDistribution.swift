import TenantKitPostgres

/// Distributes TenantKit's migrated schema over a Citus cluster (`tenantkit citus distribute`).
///
/// Run it as a superuser on the coordinator, after `tenantkit migrate` (which, on a coordinator
/// with nothing distributed yet, builds the schema there alone). It first checks the cluster and
/// stops, changing nothing, on any problem; then it brings every step up to date, each one only
/// if needed, so a second run changes nothing and says so:
///
/// 1. parameter grants the entry points' `SET` clauses need, copied to the workers (Citus does not
///    propagate `GRANT ... ON PARAMETER`);
/// 2. policies without subqueries (Citus refuses them on distributed tables): the
///    `(SELECT tenantkit.f())` wrappers become plain calls of the same STABLE functions, and
///    `users_visible` calls `tenantkit.user_shares_current_org` (Schema/0019);
/// 3. the tables, in ``CitusTablePlan/tenantKit`` order;
/// 4. every function on every node, the verifier bound to the coordinator's global process id
///    (`citus_backend_gpid()`, which workers see for the statements they run for it), and the
///    functions that read reference tables from a shard allowed to (``CitusTablePlan/shardReaders``);
/// 5. `tenantkit_owner` may log in on the workers (only there), for the entry points' connections.
///
/// ```swift
/// let result = try await CitusDistribution.distribute(on: connection)
/// print(result.changes.isEmpty ? "already distributed" : result.changes.joined(separator: "\n"))
/// ```
public enum CitusDistribution {
    /// What a run found and did.
    public struct Result: Sendable, Equatable {
        /// One line per change made, in order; empty when everything was already in place.
        public var changes: [String] = []
        /// Tables of the database the plan does not cover (the application's own), left as they are.
        public var untouchedTables: [String] = []
    }

    /// The cluster is not ready; nothing was changed. `problems` names each one.
    public struct NotReady: Error, Sendable, CustomStringConvertible {
        public let problems: [String]
        public var description: String {
            "the Citus cluster is not ready to distribute TenantKit's schema; nothing was changed:\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// The roles every node must have, and what they must not be.
    static let roles = ["tenantkit_owner", "tenantkit_app", "tenantkit_operator"]

    /// Every problem that keeps `connection`'s database from being distributed; empty when ready.
    public static func problems(on connection: PostgresConnection) async throws -> [String] {
        guard try await CitusCluster.detect(on: connection) != nil else {
            return ["database \(connection.configuration.database ?? "?") has no citus extension (CREATE EXTENSION citus on every node, then add the workers)"]
        }
        var problems: [String] = []
        struct Node: Decodable { let name: String; let port: Int; let active: Bool }
        let workers = try await connection.fetchAll("""
            SELECT nodename AS name, nodeport AS port, isactive AS active FROM pg_catalog.pg_dist_node
            WHERE noderole = 'primary' AND groupid <> 0 ORDER BY nodeport
            """, as: Node.self)
        if workers.isEmpty { problems.append("the coordinator has no workers (SELECT citus_add_node(host, port))") }
        for worker in workers where !worker.active { problems.append("worker \(worker.name):\(worker.port) is not active") }
        if !(try await connection.fetchOne("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user", as: Bool.self)) {
            problems.append("distribute runs as a superuser (it grants on the workers and distributes functions)")
        }
        if try await connection.fetchOne("SELECT to_regclass('tenantkit.context_keys') IS NULL", as: Bool.self) {
            problems.append("TenantKit's migrations have not been applied here (run tenantkit migrate first)")
            return problems
        }
        if try await connection.fetchOne("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'tenantkit_context')", as: Bool.self) {
            problems.append("the native verifier (extension tenantkit_context) reads the local node's tables, which on Citus are empty shells: "
                + "SELECT tenantkit.use_portable_verifier() first")
        }
        if !(try await connection.fetchOne("SELECT EXISTS (SELECT 1 FROM tenantkit.context_keys WHERE retired_at IS NULL)", as: Bool.self)) {
            problems.append("no signing key is installed (tenantkit keys install): every claim would fail on every node")
        }
        // Citus needs max_prepared_transactions > 0 on every node, and no privilege refuses
        // PREPARE TRANSACTION: only the prepare guard does, and on every node, since SQL sent to
        // the coordinator can reach a worker's session (Citus forwards a SET LOCAL's whole text).
        let guardCheck = "SELECT coalesce(current_setting('tenantkit.prepare_guard', true), 'off')"
        let fix = "install Extensions/tenantkit_context on every node, then on each: "
            + "ALTER SYSTEM SET session_preload_libraries = 'tenantkit_context'; SELECT pg_reload_conf()"
        if try await connection.fetchOne(PostgresQuery(unsafeSQL: guardCheck), as: String.self) != "on" {
            problems.append("the coordinator lets the application's role PREPARE TRANSACTION (Citus needs max_prepared_transactions > 0): \(fix)")
        }
        struct Reply: Decodable { let nodename: String; let nodeport: Int; let success: Bool; let result: String }
        for reply in try await connection.fetchAll(
            "SELECT nodename, nodeport, success, result FROM run_command_on_workers(\(guardCheck))", as: Reply.self)
        where !(reply.success && reply.result == "on") {
            problems.append("worker \(reply.nodename):\(reply.nodeport) lets the application's role PREPARE TRANSACTION: \(fix)")
        }
        // Roles are per node: each worker must have them, none able to bypass row-level security.
        let rolesCheck = """
            SELECT coalesce(string_agg(rolname || CASE WHEN rolsuper OR rolbypassrls THEN '!bypass' ELSE '' END, ',' ORDER BY rolname), '')
            FROM pg_catalog.pg_roles WHERE rolname IN ('tenantkit_app', 'tenantkit_operator', 'tenantkit_owner')
            """
        for reply in try await connection.fetchAll(
            "SELECT nodename, nodeport, success, result FROM run_command_on_workers(\(rolesCheck))", as: Reply.self) {
            let node = "\(reply.nodename):\(reply.nodeport)"
            guard reply.success else { problems.append("worker \(node) cannot be checked: \(reply.result)"); continue }
            let found = Set(reply.result.split(separator: ",").map(String.init))
            for role in roles where !found.contains(where: { $0.hasPrefix(role) }) {
                problems.append("worker \(node) has no role \(role) (create it there, or let Citus propagate it: CREATE ROLE on the coordinator)")
            }
            if found.contains(where: { $0.hasSuffix("!bypass") }) {
                problems.append("worker \(node): a TenantKit role is superuser or BYPASSRLS there")
            }
        }
        return problems
    }

    /// Checks the cluster (throwing ``NotReady`` with every problem, having changed nothing), then
    /// brings every step up to date.
    @discardableResult
    public static func distribute(on connection: PostgresConnection) async throws -> Result {
        let problems = try await problems(on: connection)
        if !problems.isEmpty { throw NotReady(problems: problems) }
        var result = Result()
        try await grantParametersOnWorkers(on: connection, &result)
        try await rewritePolicies(on: connection, &result)
        try await distributeTables(on: connection, &result)
        try await closeRemoteCommands(on: connection, &result)
        try await distributeFunctions(on: connection, &result)
        try await bindVerifier(on: connection, &result)
        // Last: distributing a function sends its owner's role to the workers, NOLOGIN included.
        try await letOwnerReachWorkers(on: connection, &result)
        if !result.changes.isEmpty {
            // distribute changed function definitions on purpose: record them as migrated, so
            // doctor's unknown-function check keeps pointing at real backdoors only.
            let version = try await connection.fetchOne(
                "SELECT coalesce(max(version), 0)::bigint FROM public.schema_migrations WHERE source = 'tenantkit'", as: Int.self)
            try await connection.execute(Migrator.recordFunctions(version: version))
        }
        return result
    }

    private static func grantParametersOnWorkers(on connection: PostgresConnection, _ result: inout Result) async throws {
        struct Grant: Decodable { let parameter: String; let privilege: String; let role: String }
        let grants = try await connection.fetchAll("""
            SELECT p.parname AS parameter, a.privilege_type AS privilege, r.rolname AS role
            FROM pg_catalog.pg_parameter_acl p, pg_catalog.aclexplode(p.paracl) a
            JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
            WHERE r.rolname LIKE 'tenantkit\\_%' ORDER BY 1, 2, 3
            """, as: Grant.self)
        struct Reply: Decodable { let nodename: String; let nodeport: Int; let success: Bool; let result: String }
        for grant in grants {
            let check: PostgresQuery = """
                SELECT nodename, nodeport, success, result FROM run_command_on_workers(
                    format('SELECT has_parameter_privilege(%L, %L, %L)', \(grant.role)::text, \(grant.parameter)::text, \(grant.privilege)::text))
                """
            let missing = try await connection.fetchAll(check, as: Reply.self).filter { !($0.success && $0.result == "t") }
            guard !missing.isEmpty else { continue }
            let replies = try await connection.fetchAll("""
                SELECT nodename, nodeport, success, result FROM run_command_on_workers(
                    format('GRANT %s ON PARAMETER %s TO %I', \(grant.privilege)::text, \(grant.parameter)::text, \(grant.role)::text))
                """, as: Reply.self)
            if let failed = replies.first(where: { !$0.success }) {
                throw NotReady(problems: ["cannot grant \(grant.privilege) on parameter \(grant.parameter) to \(grant.role) on \(failed.nodename):\(failed.nodeport): \(failed.result)"])
            }
            result.changes.append("granted \(grant.privilege) on parameter \(grant.parameter) to \(grant.role) on \(missing.count) worker(s)")
        }
    }

    /// Citus's functions that run SQL text of the caller's on other nodes, as the caller. PUBLIC may
    /// execute them by default, so an injection on the coordinator could run anything on every
    /// worker as `tenantkit_app`.
    public static let remoteCommandFunctions = [
        "run_command_on_workers", "run_command_on_all_nodes", "run_command_on_coordinator", "run_command_on_placements",
        "run_command_on_colocated_placements", "run_command_on_shards", "master_run_on_worker",
        // It splices its result id into a COPY command unquoted.
        "broadcast_intermediate_result",
    ]

    /// Those functions of pg_catalog, by signature, that `role` may execute.
    package static func remoteCommands(executableBy role: String) -> PostgresQuery {
        """
        SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname::text = ANY(\(remoteCommandFunctions))
          AND pg_catalog.has_function_privilege(\(role), p.oid, 'EXECUTE')
        ORDER BY 1
        """
    }

    /// Takes the remote-command functions from PUBLIC in this database (the coordinator's copy, which
    /// the application reaches), and gives `doctor` its placement check as a definer function with a
    /// fixed command instead (Doctor+CitusPlacementCheck): its owner may run them.
    private static func closeRemoteCommands(on connection: PostgresConnection, _ result: inout Result) async throws {
        let open = try await connection.fetchAll(remoteCommands(executableBy: "public"), as: String.self)
        for function in open {
            // Signatures come from pg_proc, never from input.
            try await connection.executeScript(unsafeSQL: "REVOKE EXECUTE ON FUNCTION \(function) FROM PUBLIC")
        }
        if !open.isEmpty { result.changes.append("\(open.count) Citus functions that run SQL on other nodes taken from PUBLIC") }
        // The definer's owner runs them (run_command_on_placements calls master_run_on_worker).
        try await connection.executeScript(unsafeSQL: """
            GRANT EXECUTE ON FUNCTION pg_catalog.run_command_on_placements(regclass, text, boolean) TO tenantkit_owner;
            GRANT EXECUTE ON FUNCTION pg_catalog.master_run_on_worker(text[], integer[], text[], boolean) TO tenantkit_owner
            """)
        // Replaced when older than this definition, which names shards with shard_name() (a shard's
        // name is truncated and hashed when its table's is long, so it cannot be spliced together).
        let current = try await connection.fetchOne("""
            SELECT coalesce((SELECT prosrc LIKE '%shard_name() leaves public out%' FROM pg_catalog.pg_proc
                             WHERE oid = to_regprocedure('tenantkit.citus_placement_security()')), false)
            """, as: Bool.self)
        guard !current else { return }
        try await connection.executeScript(unsafeSQL: """
            CREATE OR REPLACE FUNCTION tenantkit.citus_placement_security()
            RETURNS TABLE (relation text, shardid bigint, node text, success boolean, result text, expected text)
            LANGUAGE sql
            SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp
            SET citus.show_shards_for_app_name_prefixes = '*'
            AS $fn$
                WITH placement AS (
                    SELECT s.logicalrelid, s.shardid, n.nodename, n.nodeport, n.groupid = 0 AS local,
                           -- Named as the application's search_path (public first) would name it.
                           CASE WHEN ns.nspname = 'public' THEN format('%I', t.relname)
                                ELSE format('%I.%I', ns.nspname, t.relname) END AS relation,
                           -- shard_name() leaves public out, which this search_path does not have.
                           CASE WHEN ns.nspname = 'public' THEN 'public.' ELSE '' END
                               || pg_catalog.shard_name(s.logicalrelid, s.shardid) AS shard,
                           (t.relrowsecurity AND t.relforcerowsecurity)::text || ':'
                               || (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = s.logicalrelid) AS expected
                    FROM pg_catalog.pg_dist_shard s
                    JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
                    JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
                    JOIN pg_catalog.pg_class t ON t.oid = s.logicalrelid
                    JOIN pg_catalog.pg_namespace ns ON ns.oid = t.relnamespace
                    WHERE t.relrowsecurity OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                                      WHERE a.attrelid = t.oid AND a.attname = 'org_id' AND NOT a.attisdropped)
                ), state AS (
                    SELECT $q$SELECT coalesce((SELECT (c.relrowsecurity AND c.relforcerowsecurity)::text || ':'
                                   || (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)
                               FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(%L)), 'no such shard')$q$ AS sql
                )
                -- The coordinator's own placements are read here: its owner may not log in to it.
                SELECT p.relation, p.shardid, p.nodename || ':' || p.nodeport, r.success, r.result, p.expected
                FROM placement p, state,
                     LATERAL (SELECT true AS success,
                                     coalesce((SELECT (c.relrowsecurity AND c.relforcerowsecurity)::text || ':'
                                                      || (SELECT count(*) FROM pg_catalog.pg_policy q WHERE q.polrelid = c.oid)
                                               FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(p.shard)), 'no such shard') AS result
                              WHERE p.local
                              UNION ALL
                              SELECT w.success, w.result
                              FROM pg_catalog.master_run_on_worker(ARRAY[p.nodename], ARRAY[p.nodeport],
                                                                   ARRAY[format(state.sql, p.shard)], false) w
                              WHERE NOT p.local) r
                ORDER BY 1, 2, 3
            $fn$;
            ALTER FUNCTION tenantkit.citus_placement_security() OWNER TO tenantkit_owner;
            REVOKE ALL ON FUNCTION tenantkit.citus_placement_security() FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION tenantkit.citus_placement_security() TO tenantkit_app, tenantkit_operator;
            """)
        result.changes.append("tenantkit.citus_placement_security() checks the shard placements for doctor")
    }

    /// Citus opens a SECURITY DEFINER function's connections to the workers as the function's owner,
    /// so the entry points (owned by `tenantkit_owner`) fail on a NOLOGIN owner ("role
    /// "tenantkit_owner" is not permitted to log in"). The owner may log in on the workers only; it
    /// stays NOLOGIN on the coordinator, where the application connects. Without propagation, or the
    /// worker would pass the change on to every node, the coordinator included.
    private static func letOwnerReachWorkers(on connection: PostgresConnection, _ result: inout Result) async throws {
        struct Reply: Decodable { let nodename: String; let nodeport: Int; let success: Bool; let result: String }
        let state = try await connection.fetchAll("""
            SELECT nodename, nodeport, success, result FROM run_command_on_workers(
                'SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = ''tenantkit_owner''')
            """, as: Reply.self)
        let missing = state.filter { !($0.success && $0.result == "t") }
        guard !missing.isEmpty else { return }
        let replies = try await connection.fetchAll("""
            SELECT nodename, nodeport, success, result FROM run_command_on_workers(
                'SET citus.enable_ddl_propagation = off; ALTER ROLE tenantkit_owner LOGIN')
            """, as: Reply.self)
        if let failed = replies.first(where: { !$0.success }) {
            throw NotReady(problems: ["cannot let tenantkit_owner log in on \(failed.nodename):\(failed.nodeport): \(failed.result)"])
        }
        result.changes.append("tenantkit_owner may log in on \(missing.count) worker(s), for the entry points' connections "
            + "(allow it from the coordinator only, in the workers' pg_hba.conf, with credentials in pg_dist_authinfo)")
    }

    /// Policies of tables not yet distributed: `( SELECT tenantkit.f(...) AS f)` becomes
    /// `tenantkit.f(...)`, the form Citus accepts; the statement is built by the server from its own
    /// deparsed policy text.
    private static func rewritePolicies(on connection: PostgresConnection, _ result: inout Result) async throws {
        let tables = CitusTablePlan.tenantKit.map(\.table)
        let unwrap = #"\( SELECT (tenantkit\.[a-z_]+\([^()]*\)) AS [a-z_]+\)"#
        struct Rewrite: Decodable { let table: String; let policy: String; let statement: String }
        let rewrites = try await connection.fetchAll("""
            SELECT p.polrelid::regclass::text AS table, p.polname AS policy,
                   format('ALTER POLICY %I ON %s', p.polname, p.polrelid::regclass)
                   || coalesce(' USING (' || regexp_replace(pg_catalog.pg_get_expr(p.polqual, p.polrelid), \(unwrap), '\\1', 'g') || ')', '')
                   || coalesce(' WITH CHECK (' || regexp_replace(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), \(unwrap), '\\1', 'g') || ')', '') AS statement
            FROM pg_catalog.pg_policy p
            WHERE p.polrelid::regclass::text = ANY (\(tables))
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition d WHERE d.logicalrelid = p.polrelid)
              AND (pg_catalog.pg_get_expr(p.polqual, p.polrelid) ~ \(unwrap)
                   OR coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) ~ \(unwrap), false)
                   OR p.polname = 'users_visible')
            ORDER BY 1, 2
            """, as: Rewrite.self)
        for rewrite in rewrites {
            if rewrite.policy == "users_visible" {
                try await connection.executeScript(unsafeSQL: """
                    ALTER POLICY users_visible ON public.users
                        USING (id = tenantkit.current_user_id() OR tenantkit.user_shares_current_org(id))
                    """)
            } else {
                try await connection.executeScript(unsafeSQL: rewrite.statement)
            }
            result.changes.append("policy \(rewrite.policy) on \(rewrite.table) without a subquery")
        }
    }

    private static func distributeTables(on connection: PostgresConnection, _ result: inout Result) async throws {
        struct Present: Decodable { let table: String; let method: String? }
        let present = try await connection.fetchAll("""
            SELECT c.oid::regclass::text AS table, d.partmethod::text AS method
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_catalog.pg_dist_partition d ON d.logicalrelid = c.oid
            WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'tenantkit')
            """, as: Present.self)
        let methods = Dictionary(present.map { ($0.table, $0.method) }, uniquingKeysWith: { first, _ in first })
        let planned = Set(CitusTablePlan.tenantKit.map(\.table))
        result.untouchedTables = present.map(\.table)
            .filter { !planned.contains($0) && !["schema_migrations", "schema_functions"].contains($0) }.sorted()
        var wrong: [String] = []
        for plan in CitusTablePlan.tenantKit {
            guard let method = methods[plan.table] else { wrong.append("table \(plan.table) does not exist"); continue }
            switch (plan.kind, method) {
            case (.reference, "n"?), (.distributed, "h"?): continue
            case (_, nil): break
            default: wrong.append("table \(plan.table) is already distributed (\(method ?? "")) but the plan makes it \(plan.kind.rawValue)")
            }
        }
        if !wrong.isEmpty { throw NotReady(problems: wrong) }
        let colocateWith = CitusTablePlan.tenantKit.first { $0.kind == .distributed }!.table
        // Triggers on distributed tables read and write co-located tables of the same org (the
        // ledger and its account, the log and its chain head); foreign keys from local tables to a
        // reference table must not turn them into Citus local tables behind our back.
        try await connection.executeScript(unsafeSQL: "SET citus.enable_unsafe_triggers = on; SET citus.enable_local_reference_table_foreign_keys = off")
        do {
            for plan in CitusTablePlan.tenantKit where methods[plan.table]! == nil {
                switch plan.kind {
                case .reference:
                    _ = try await connection.fetchAll("SELECT create_reference_table(\(plan.table)::regclass)::text", as: String?.self)
                case .distributed where plan.table == colocateWith:
                    _ = try await connection.fetchAll("SELECT create_distributed_table(\(plan.table)::regclass, 'org_id')::text", as: String?.self)
                case .distributed:
                    _ = try await connection.fetchAll(
                        "SELECT create_distributed_table(\(plan.table)::regclass, 'org_id', colocate_with => \(colocateWith))::text", as: String?.self)
                }
                result.changes.append("\(plan.table): \(plan.kind == .reference ? "reference table" : "distributed by org_id") (\(plan.reason))")
            }
        } catch {
            try? await connection.executeScript(unsafeSQL: "RESET citus.enable_unsafe_triggers; RESET citus.enable_local_reference_table_foreign_keys")
            throw error
        }
        try await connection.executeScript(unsafeSQL: "RESET citus.enable_unsafe_triggers; RESET citus.enable_local_reference_table_foreign_keys")
    }

    /// Functions reach the workers once the tables their bodies name exist there.
    private static func distributeFunctions(on connection: PostgresConnection, _ result: inout Result) async throws {
        let functions = try await connection.fetchAll("""
            SELECT p.oid::regprocedure::text
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ('public', 'tenantkit') AND p.prokind IN ('f', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o
                              WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.objid = p.oid)
            ORDER BY p.oid  -- creation order: Citus checks SQL bodies, but tracks no dependencies between them
            """, as: String.self)
        for function in functions {
            _ = try await connection.fetchAll("SELECT create_distributed_function(\(function)::regprocedure)::text", as: String?.self)
        }
        if !functions.isEmpty { result.changes.append("\(functions.count) functions created on every node") }
    }

    private static func bindVerifier(on connection: PostgresConnection, _ result: inout Result) async throws {
        let bound = try await connection.fetchOne(
            "SELECT prosrc LIKE '%citus_backend_gpid%ELSE -1 END%' FROM pg_catalog.pg_proc WHERE oid = 'tenantkit.session_pid()'::regprocedure", as: Bool.self)
        if !bound {
            // A worker runs a statement for the coordinator's backend with that backend's global
            // pid (node id * 10^10 + pid); the claim holds the coordinator's own pid. A statement
            // started on any other node (the app logging in to a worker) gets -1, which no claim
            // holds. Never NULL: the verifier's `<>` would be NULL too, and its IF would let it pass.
            try await connection.executeScript(unsafeSQL: """
                CREATE OR REPLACE FUNCTION tenantkit.session_pid()
                RETURNS bigint
                LANGUAGE sql
                STABLE
                AS $fn$
                    SELECT CASE WHEN pg_catalog.citus_backend_gpid() / 10000000000
                                     = (SELECT n.nodeid FROM pg_catalog.pg_dist_node n WHERE n.groupid = 0 AND n.noderole = 'primary')
                                THEN pg_catalog.citus_backend_gpid() % 10000000000 ELSE -1 END
                $fn$
                """)
            result.changes.append("tenantkit.session_pid() bound to the coordinator's global process id")
        }
        for function in CitusTablePlan.shardReaders {
            let allowed = try await connection.fetchOne("""
                SELECT coalesce('citus.allow_nested_distributed_execution=on' = ANY (proconfig), false)
                FROM pg_catalog.pg_proc WHERE oid = \(function)::regprocedure
                """, as: Bool.self)
            if allowed { continue }
            // The names come from the fixed list above, never from input.
            try await connection.executeScript(unsafeSQL: "ALTER FUNCTION \(function) SET citus.allow_nested_distributed_execution = on")
            result.changes.append("\(function) may read reference tables from a shard")
        }
    }
}

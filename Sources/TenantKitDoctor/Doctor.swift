import Foundation
import TenantKitMigrations
import TenantKitPostgres

/// The start-up self-check: connected as the application, is the database set up so that tenant
/// isolation actually holds?
///
/// ```swift
/// let report = try await Doctor.check(configuration: appConfiguration, migrator: Migrator(directory: "Schema"))
/// try report.requireHealthy()  // throws DoctorError listing every finding
/// ```
///
/// It reports (one ``DoctorFinding`` each):
/// - the connected role, or a role it can become, is superuser, has BYPASSRLS, or owns tables;
/// - a table with an `org_id` column lacks `ENABLE` or `FORCE ROW LEVEL SECURITY`, or has no policy
///   that applies to the connected role;
/// - a policy that applies to the connected role trusts a plain setting (`current_setting`) instead
///   of the verified org (`tenantkit.current_org()`), which SQL of the application can forge;
/// - a policy verifies the context per row instead of in a scalar sub-select (an InitPlan);
/// - a table with an `org_id` column has no index led by `org_id`;
/// - a view lacks `security_invoker`;
/// - a `SECURITY DEFINER` function has no pinned `search_path`, one that can reach the caller's
///   temporary schema (`pg_temp` not last), or `PUBLIC` may execute it;
/// - a function the connected role may execute was not created by a migration, or changed since
///   (the runner records every function in `schema_functions`): a backdoor;
/// - the connected role may create temporary objects (they shadow names for the whole session);
/// - the connected role publishes its SQL text in `pg_stat_activity` (`track_activities` on), or
///   has role or database defaults besides `track_activities = off` (any SQL of the application
///   can set them, for every later connection);
/// - a `tenantkit.*` setting is set at session level on the connection;
/// - two-phase commit is on and the connected role may `PREPARE TRANSACTION` (a transaction kept
///   past its session, with its locks): the extension's prepare guard is not preloaded;
/// - migrations are pending or applied files changed (when a ``Migrator`` is given);
/// - on a Citus coordinator, a shard placement whose RLS or policies differ from its table's, and a
///   Citus function that runs SQL on other nodes that the connected role may execute.
///
/// Objects of `pg_catalog`, `information_schema` and extensions are not inspected.
public enum Doctor {
    /// Runs every check on `connection`, which should be the application's own kind of connection
    /// (its role, its session settings), outside a transaction.
    public static func check(connection: PostgresConnection, migrator: Migrator? = nil) async throws -> DoctorReport {
        var findings: [DoctorFinding] = []
        var notes: [String] = []
        let role = try await connection.fetchOne("SELECT current_user::text", as: String.self)

        let citus = try await CitusCluster.detect(on: connection)
        let distributed = citus?.hasDistributedTables == true
        findings += try await roleFindings(connection)
        findings += try await tableFindings(connection)
        findings += try await policyFindings(connection, citus: distributed)
        if distributed {
            findings += try await placementFindings(connection, role: role)
            notes.append("Citus: policies call the verifier without a sub-select, which Citus refuses in policies; every shard placement was checked")
        }
        findings += try await viewFindings(connection)
        findings += try await functionFindings(connection)
        findings += try await unmigratedFunctionFindings(connection, notes: &notes)
        findings += try await sessionFindings(connection)
        findings += try await settingFindings(connection)
        findings += try await preparedTransactionFindings(connection)
        let verifier = try await contextVerifier(connection)
        if verifier == .native { findings += try await nativeVerifierFindings(connection) }

        if let migrator {
            do {
                let status = try await migrator.status(on: connection)
                for state in status.pending {
                    findings.append(DoctorFinding(.pendingMigration, "migration \(state.displayName)", "is not applied"))
                }
                for state in status.drift {
                    findings.append(DoctorFinding(
                        .migrationDrift, "migration \(state.displayName)",
                        state.state == .missingFile ? "is applied but its file is gone" : "changed after it was applied"))
                }
            } catch let error as PostgresError where error.code == .insufficientPrivilege {
                findings.append(DoctorFinding(
                    .pendingMigration, "table \(Migrator.table)",
                    "cannot be read by role \(role), so migrations cannot be checked (GRANT SELECT ON \(Migrator.table) TO \(role))"))
            }
        } else {
            notes.append("migrations not checked: no migrations directory given")
        }
        return DoctorReport(role: role, findings: findings, notes: notes, contextVerifier: verifier)
    }

    /// ``check(connection:migrator:)`` on a new connection, closed afterwards.
    public static func check(configuration: PostgresConfiguration, migrator: Migrator? = nil) async throws -> DoctorReport {
        let connection = try await PostgresConnection.connect(configuration)
        do {
            let report = try await check(connection: connection, migrator: migrator)
            await connection.close()
            return report
        } catch {
            await connection.close()
            throw error
        }
    }

    // MARK: Checks

    /// Schemas that hold the application's objects (not the system's).
    private static let userSchemas = """
        n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        """

    private static func roleFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct RoleRow: Decodable { let rolname: String; let rolsuper: Bool; let rolbypassrls: Bool; let isSelf: Bool }
        // The role itself and every role it can become or inherits from (SET ROLE needs only membership).
        let roles = try await connection.fetchAll("""
            SELECT r.rolname::text AS rolname, r.rolsuper, r.rolbypassrls, r.rolname = current_user AS is_self
            FROM pg_catalog.pg_roles r
            WHERE r.rolname = current_user
               OR (NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
                   AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
            ORDER BY r.rolname <> current_user, r.rolname
            """, as: RoleRow.self)
        var findings: [DoctorFinding] = []
        for role in roles {
            let who = role.isSelf ? "role \(role.rolname)" : "role \(role.rolname) (a member role of the app role)"
            if role.rolsuper {
                findings.append(DoctorFinding(.appRoleSuperuser, who, "is a superuser: row-level security does not apply to it"))
            } else if role.rolbypassrls {
                findings.append(DoctorFinding(.appRoleBypassesRLS, who, "has BYPASSRLS: row-level security does not apply to it"))
            }
        }
        if roles.first?.rolsuper == true { return findings }  // a superuser "is a member" of every role
        struct Owned: Decodable { let owner: String; let relation: String }
        let owned = try await connection.fetchAll("""
            SELECT pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
                   (quote_ident(n.nspname) || '.' || quote_ident(c.relname)) AS relation
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND \(unsafeRaw: userSchemas)
              AND pg_catalog.pg_has_role(current_user, c.relowner, 'MEMBER')
            ORDER BY 2
            """, as: Owned.self)
        for row in owned {
            findings.append(DoctorFinding(
                .appRoleOwnsTables, "table \(row.relation)",
                "is owned by \(row.owner), which the app role is or can become: an owner can turn row-level security off"))
        }
        return findings
    }

    private static func tableFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct TenantTable: Decodable {
            let relation: String; let enabled: Bool; let forced: Bool; let policies: Int; let usable: Bool; let orgIndex: Bool
        }
        let tables = try await connection.fetchAll("""
            SELECT (quote_ident(n.nspname) || '.' || quote_ident(c.relname)) AS relation,
                   c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                   (SELECT count(*) FROM pg_catalog.pg_policy p
                    WHERE p.polrelid = c.oid
                      AND EXISTS (SELECT 1 FROM unnest(p.polroles) r WHERE r = 0 OR pg_catalog.pg_has_role(current_user, r, 'MEMBER'))) AS policies,
                   -- A table only the owner's functions touch needs no policy for the connected role.
                   pg_catalog.has_table_privilege(current_user, c.oid, 'SELECT, INSERT, UPDATE, DELETE') AS usable,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                           WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum) AS org_index
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p')
              AND NOT c.relispartition
              AND \(unsafeRaw: userSchemas)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY 1
            """, as: TenantTable.self)
        var findings: [DoctorFinding] = []
        for table in tables {
            let subject = "table \(table.relation)"
            if !table.enabled {
                findings.append(DoctorFinding(.rlsNotEnabled, subject, "has an org_id column but row-level security is not enabled (ALTER TABLE ... ENABLE ROW LEVEL SECURITY)"))
            }
            if !table.forced {
                findings.append(DoctorFinding(.rlsNotForced, subject, "has an org_id column but row-level security is not forced, so its owner bypasses it (ALTER TABLE ... FORCE ROW LEVEL SECURITY)"))
            }
            if table.policies == 0 && table.usable {
                findings.append(DoctorFinding(.noPolicy, subject, "has an org_id column but no row-level security policy for the connected role, which therefore sees nothing"))
            }
            if !table.orgIndex {
                findings.append(DoctorFinding(.noOrgIndex, subject, "has an org_id column but no index led by org_id: every tenant query scans it"))
            }
        }
        return findings
    }

    /// With `citus`, the per-row check is skipped: Citus refuses sub-selects in policies on its tables.
    private static func policyFindings(_ connection: PostgresConnection, citus: Bool) async throws -> [DoctorFinding] {
        struct PolicyRow: Decodable {
            let policy: String; let relation: String; let qual: String?; let withCheck: String?; let appliesToMe: Bool; let tenant: Bool
        }
        let policies = try await connection.fetchAll("""
            SELECT p.polname::text AS policy,
                   (quote_ident(n.nspname) || '.' || quote_ident(c.relname)) AS relation,
                   pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                   pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
                   EXISTS (SELECT 1 FROM unnest(p.polroles) r WHERE r = 0 OR pg_catalog.pg_has_role(current_user, r, 'MEMBER')) AS applies_to_me,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped) AS tenant
            FROM pg_catalog.pg_policy p
            JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE \(unsafeRaw: userSchemas)
            ORDER BY 2, 1
            """, as: PolicyRow.self)
        var findings: [DoctorFinding] = []
        for row in policies {
            let expressions = [row.qual, row.withCheck].compactMap { $0 }
            let subject = "policy \(row.policy) on \(row.relation)"
            if !citus, expressions.contains(where: PolicyExpression.verifiesPerRow) {
                findings.append(DoctorFinding(
                    .policyPerRowSetting, subject,
                    "reads the tenant context for every row; wrap it in a scalar sub-select, "
                        + "(SELECT tenantkit.current_org()), so it is verified once per statement"))
            }
            if row.appliesToMe, row.tenant, expressions.contains(where: PolicyExpression.trustsPlainSetting) {
                findings.append(DoctorFinding(
                    .policyTrustsPlainSetting, subject,
                    "compares with current_setting(...), which any SQL of the connected role can set to another org; "
                        + "compare with (SELECT tenantkit.current_org()), which verifies the signed claim"))
            }
        }
        return findings
    }

    private static func viewFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        let views = try await connection.fetchAll("""
            SELECT (quote_ident(n.nspname) || '.' || quote_ident(c.relname)) AS relation
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'v'
              AND \(unsafeRaw: userSchemas)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
              AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{}')) o
                              WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', 'security_invoker=1',
                                                 'security_invoker=yes'))
            ORDER BY 1
            """, as: String.self)
        return views.map {
            DoctorFinding(
                .viewWithoutSecurityInvoker, "view \($0)",
                "lacks security_invoker, so it reads its tables with its owner's rights (ALTER VIEW ... SET (security_invoker = true))")
        }
    }

    private static func functionFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct FunctionRow: Decodable { let function: String; let pinned: Bool; let reachesTemp: Bool; let publicExecute: Bool }
        let functions = try await connection.fetchAll("""
            SELECT (quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                    || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')') AS function,
                   EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) s WHERE s LIKE 'search\\_path=%') AS pinned,
                   -- The temporary schema is searched first unless named; named last it only holds what the caller made.
                   EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) s
                           WHERE s LIKE 'search\\_path=%' AND s !~ 'pg_temp"?\\s*$' AND s NOT IN ('search_path=""', 'search_path=')) AS reaches_temp,
                   EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                           WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_execute
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prosecdef
              AND \(unsafeRaw: userSchemas)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1
            """, as: FunctionRow.self)
        var findings: [DoctorFinding] = []
        for function in functions {
            let subject = "function \(function.function)"
            if !function.pinned {
                findings.append(DoctorFinding(
                    .definerWithoutSearchPath, subject,
                    "is SECURITY DEFINER without a pinned search_path, so a caller's objects can hijack it (ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp)"))
            }
            if function.pinned, function.reachesTemp {
                findings.append(DoctorFinding(
                    .definerSearchPathReachesTemp, subject,
                    "is SECURITY DEFINER and its search_path does not end with pg_temp, so the caller's temporary objects come first: "
                        + "a temporary view or function of the caller would run as the owner (ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp)"))
            }
            if function.publicExecute {
                findings.append(DoctorFinding(
                    .definerExecutableByPublic, subject,
                    "is SECURITY DEFINER and PUBLIC may execute it (REVOKE EXECUTE ON FUNCTION ... FROM PUBLIC)"))
            }
        }
        return findings
    }

    private static func unmigratedFunctionFindings(_ connection: PostgresConnection, notes: inout [String]) async throws -> [DoctorFinding] {
        guard try await connection.fetchOne("SELECT to_regclass('public.schema_functions') IS NOT NULL", as: Bool.self) else {
            notes.append("functions not checked against the migrations: public.schema_functions does not exist (run `tenantkit migrate`)")
            return []
        }
        let unknown = try await connection.fetchAll("""
            SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prokind IN ('f', 'p')
              AND \(unsafeRaw: userSchemas)
              AND pg_catalog.has_function_privilege(current_user, p.oid, 'EXECUTE')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
              AND NOT EXISTS (SELECT 1 FROM public.schema_functions f
                              WHERE f.signature = quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                                                  || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
                                AND f.definition_md5 = md5(pg_catalog.pg_get_functiondef(p.oid)))
            ORDER BY 1
            """, as: String.self)
        return unknown.map {
            DoctorFinding(
                .unmigratedFunction, "function \($0)",
                "may be executed by the connected role but no migration created it, or it changed after its migration: find who did")
        }
    }

    /// Which claim verifier the schema uses (Schema/0017), when it is TenantKit's.
    private static func contextVerifier(_ connection: PostgresConnection) async throws -> DoctorReport.ContextVerifier? {
        let language = try await connection.fetchOptional("""
            SELECT l.lanname::text FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.oid = to_regprocedure('tenantkit.verified_principal()')
            """, as: String.self)
        return language.map { $0 == "c" ? .native : .portable }
    }

    /// The native verifier's caches are only as fresh as the triggers that clear them (Schema/0017):
    /// each must exist and fire always (also under `session_replication_role = replica`).
    private static func nativeVerifierFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        let expected = [
            "tenantkit.context_keys context_cache_invalidate", "tenantkit.context_keys context_cache_invalidate_truncate",
            "public.memberships context_cache_invalidate", "public.memberships context_cache_invalidate_update",
            "public.memberships context_cache_invalidate_truncate",
            "public.api_keys context_cache_invalidate", "public.api_keys context_cache_invalidate_delete",
            "public.api_keys context_cache_invalidate_truncate",
        ]
        let firing = Set(try await connection.fetchAll("""
            SELECT n.nspname || '.' || c.relname || ' ' || t.tgname
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
            WHERE t.tgenabled = 'A' AND pn.nspname = 'tenantkit' AND p.proname = 'context_cache_invalidate'
            """, as: String.self))
        return expected.filter { !firing.contains($0) }.map { trigger in
            let parts = trigger.split(separator: " ")
            return DoctorFinding(
                .nativeVerifierUnwatched, "trigger \(parts[1]) on \(parts[0])",
                "is missing or does not always fire, so the native claim verifier may keep a verdict a change undid: "
                    + "run SELECT tenantkit.use_native_verifier() as a superuser")
        }
    }

    private static func sessionFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct Session: Decodable { let role: String; let temporary: Bool; let trackActivities: String; let defaults: [String] }
        let session = try await connection.fetchOne("""
            SELECT current_user::text AS role,
                   pg_catalog.has_database_privilege(current_user, pg_catalog.current_database(), 'TEMPORARY') AS temporary,
                   current_setting('track_activities') AS track_activities,
                   coalesce((SELECT array_agg(c.setting ORDER BY c.setting)
                             FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) AS c(setting)
                             WHERE d.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
                               AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
                               AND c.setting <> 'track_activities=off'), '{}') AS defaults
            """, as: Session.self)
        guard !(try await connection.fetchOne("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user", as: Bool.self)) else {
            return []  // reported as a superuser already; these are the application role's rules
        }
        var findings: [DoctorFinding] = []
        let subject = "role \(session.role)"
        if session.temporary {
            findings.append(DoctorFinding(
                .appMayCreateTemp, subject,
                "may create temporary objects, which shadow tables and functions for the rest of the session "
                    + "(REVOKE TEMPORARY ON DATABASE ... FROM PUBLIC, \(session.role))"))
        }
        if session.trackActivities != "off" {
            findings.append(DoctorFinding(
                .appPublishesSQL, subject,
                "publishes its SQL text in pg_stat_activity, where every other session of the role reads it "
                    + "(as a superuser: ALTER ROLE \(session.role) SET track_activities = off)"))
        }
        for setting in session.defaults where !setting.hasPrefix("tenantkit.") {
            findings.append(DoctorFinding(
                .roleDefault, "setting \(setting.split(separator: "=").first ?? "")",
                "is a default of \(subject) (\(setting)); the role can set its own defaults, so SQL of the application may have: "
                    + "check it, and remove it with ALTER ROLE \(session.role) RESET ..."))
        }
        return findings
    }

    /// A prepared transaction outlives its session (its locks, its hold on vacuum, a slot), and no
    /// privilege refuses `PREPARE TRANSACTION`: where 2PC is on, only the extension's prepare guard does.
    private static func preparedTransactionFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct TwoPhase: Decodable { let role: String; let superuser: Bool; let slots: Int; let guarded: Bool }
        let state = try await connection.fetchOne("""
            SELECT current_user::text AS role, r.rolsuper AS superuser,
                   current_setting('max_prepared_transactions')::int AS slots,
                   coalesce(current_setting('tenantkit.prepare_guard', true), 'off') = 'on' AS guarded
            FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
            """, as: TwoPhase.self)
        guard state.slots > 0, !state.guarded, !state.superuser else { return [] }
        return [DoctorFinding(
            .preparedTransactionsUnguarded, "setting max_prepared_transactions",
            "is \(state.slots) and role \(state.role) may PREPARE TRANSACTION, which keeps a transaction and its locks "
                + "past its session until a superuser ends it: preload TenantKit's guard on this server "
                + "(session_preload_libraries = 'tenantkit_context', from Extensions/tenantkit_context), "
                + "or set max_prepared_transactions = 0 where nothing needs two-phase commit")]
    }

    /// The tenant context settings. PostgreSQL hides custom settings from `pg_settings`, so they are
    /// asked for by name.
    public static let contextSettings = ["tenantkit.claim", "tenantkit.org_id", "tenantkit.user_id", "tenantkit.api_key_id", "tenantkit.cross_org_read"]

    private static func settingFindings(_ connection: PostgresConnection) async throws -> [DoctorFinding] {
        struct Setting: Decodable { let name: String; let source: String }
        // Outside a transaction a non-empty value can only come from the session (SET, or a role or
        // database default): it would scope every later statement on the connection.
        let settings = try await connection.fetchAll("""
            SELECT s.name, 'session' AS source FROM unnest(\(contextSettings)::text[]) AS s(name)
            WHERE coalesce(current_setting(s.name, true), '') <> ''
            UNION ALL
            SELECT split_part(c.setting, '=', 1),
                   CASE WHEN d.setrole = 0 THEN 'ALTER DATABASE ... SET' ELSE 'ALTER ROLE ... SET' END
            FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) AS c(setting)
            WHERE c.setting LIKE 'tenantkit.%'
              AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
              AND d.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user))
            ORDER BY 1, 2
            """, as: Setting.self)
        return settings.map {
            DoctorFinding(
                .sessionSetting, "setting \($0.name)",
                "is set outside a transaction (source: \($0.source)); the tenant context must only be set inside one, where it ends with the transaction")
        }
    }
}

/// Which rule a ``DoctorFinding`` breaks. A struct, so that new checks never break a `switch`.
public struct DoctorCheck: Hashable, Sendable, Encodable, CustomStringConvertible {
    /// A short stable identifier, such as `rls-not-forced`.
    public let id: String

    /// The app role (or a role it can become) is a superuser.
    public static let appRoleSuperuser = DoctorCheck(id: "app-role-superuser")
    /// The app role (or a role it can become) has BYPASSRLS.
    public static let appRoleBypassesRLS = DoctorCheck(id: "app-role-bypassrls")
    /// The app role (or a role it can become) owns a table or view.
    public static let appRoleOwnsTables = DoctorCheck(id: "app-role-owns-tables")
    /// A table with `org_id` does not have row-level security enabled.
    public static let rlsNotEnabled = DoctorCheck(id: "rls-not-enabled")
    /// A table with `org_id` does not force row-level security on its owner.
    public static let rlsNotForced = DoctorCheck(id: "rls-not-forced")
    /// A table with `org_id` has no policy.
    public static let noPolicy = DoctorCheck(id: "no-policy")
    /// A policy reads the tenant context outside a scalar sub-select (once per row).
    public static let policyPerRowSetting = DoctorCheck(id: "policy-per-row-setting")
    /// A policy of a tenant table trusts a plain setting instead of the verified org.
    public static let policyTrustsPlainSetting = DoctorCheck(id: "policy-trusts-plain-setting")
    /// A `SECURITY DEFINER` function's `search_path` reaches the caller's temporary schema.
    public static let definerSearchPathReachesTemp = DoctorCheck(id: "definer-search-path-reaches-temp")
    /// A function the app may execute was not created (as it is) by a migration.
    public static let unmigratedFunction = DoctorCheck(id: "unmigrated-function")
    /// The app role may create temporary objects.
    public static let appMayCreateTemp = DoctorCheck(id: "app-may-create-temp")
    /// The app role's SQL text is visible in `pg_stat_activity`.
    public static let appPublishesSQL = DoctorCheck(id: "app-publishes-sql")
    /// The app role has a role or database default setting.
    public static let roleDefault = DoctorCheck(id: "role-default")
    /// A table with `org_id` has no index whose first column is `org_id`.
    public static let noOrgIndex = DoctorCheck(id: "no-org-index")
    /// A view runs with its owner's rights instead of the caller's.
    public static let viewWithoutSecurityInvoker = DoctorCheck(id: "view-without-security-invoker")
    /// A `SECURITY DEFINER` function has no `SET search_path`.
    public static let definerWithoutSearchPath = DoctorCheck(id: "definer-without-search-path")
    /// `PUBLIC` may execute a `SECURITY DEFINER` function.
    public static let definerExecutableByPublic = DoctorCheck(id: "definer-executable-by-public")
    /// A `tenantkit.*` setting is set outside a transaction.
    public static let sessionSetting = DoctorCheck(id: "session-setting")
    /// The native claim verifier's invalidation triggers are missing or not always enabled.
    public static let nativeVerifierUnwatched = DoctorCheck(id: "native-verifier-unwatched")
    /// A migration is not applied (or the migrations table cannot be read).
    public static let pendingMigration = DoctorCheck(id: "pending-migration")
    /// An applied migration file changed or disappeared.
    public static let migrationDrift = DoctorCheck(id: "migration-drift")
    /// Two-phase commit is on (`max_prepared_transactions > 0`) and the connected role may
    /// `PREPARE TRANSACTION`: the extension's prepare guard is not preloaded in its sessions.
    public static let preparedTransactionsUnguarded = DoctorCheck(id: "prepared-transactions-unguarded")
    /// On Citus, a shard placement's row-level security or policies differ from its table's, or
    /// the placements cannot be checked.
    public static let placementRLS = DoctorCheck(id: "placement-rls")
    /// On Citus, the connected role may execute a function that runs SQL text on other nodes
    /// (`run_command_on_workers` and its kin).
    public static let citusRemoteCommand = DoctorCheck(id: "citus-remote-command")

    public var description: String { id }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(id)
    }
}

/// One problem `doctor` found.
public struct DoctorFinding: Sendable, Hashable, Encodable, CustomStringConvertible {
    /// The rule broken.
    public let check: DoctorCheck
    /// What is wrong, named: `table public.runs`, `role tenantkit_app`, `function public.f(uuid)`.
    public let subject: String
    /// Why it matters and how to fix it.
    public let message: String

    init(_ check: DoctorCheck, _ subject: String, _ message: String) {
        self.check = check
        self.subject = subject
        self.message = message
    }

    public var description: String { "[\(check)] \(subject) \(message)" }
}

/// Everything `doctor` found.
public struct DoctorReport: Sendable, Encodable {
    /// The role the checks ran as.
    public let role: String
    /// Every problem found; empty when the database is healthy.
    public let findings: [DoctorFinding]
    /// Checks that were skipped, and why.
    public let notes: [String]
    /// Which verifier checks the signed tenant context (Schema/0017); nil for a schema without one.
    public let contextVerifier: ContextVerifier?

    /// The two verifiers of `tenantkit.verified_principal()`, which decide alike.
    public enum ContextVerifier: String, Sendable, Encodable {
        /// The C verifier of `Extensions/tenantkit_context`: a few microseconds per statement.
        case native
        /// The plpgsql verifier, for servers without the extension: about 90 microseconds per statement.
        case portable
    }

    /// True when there are no findings.
    public var isHealthy: Bool { findings.isEmpty }

    /// Throws ``DoctorError`` unless the report is healthy: for an application's start-up.
    public func requireHealthy() throws {
        if !isHealthy { throw DoctorError(report: self) }
    }
}

/// The database failed the `doctor` checks; `description` lists every finding.
public struct DoctorError: Error, Sendable, CustomStringConvertible {
    public let report: DoctorReport
    public var description: String {
        "tenant isolation check failed for role \(report.role) (\(report.findings.count) finding\(report.findings.count == 1 ? "" : "s")):\n"
            + report.findings.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Reads a policy expression as PostgreSQL prints it (`pg_get_expr`).
enum PolicyExpression {
    /// What reads the tenant context in a policy.
    static let contextReaders: Set<String> = [
        "current_setting", "current_org", "current_org_for", "current_user_id", "current_api_key_id", "current_role", "verified_principal",
    ]

    /// True when the context is read (``contextReaders``) outside any `( SELECT ... )` sub-select:
    /// the planner then evaluates it for each row instead of once, as an InitPlan.
    static func verifiesPerRow(_ expression: String) -> Bool {
        calls(expression, contextReaders, outsideSubSelectsOnly: true)
    }

    /// True when the expression reads a setting directly (forgeable by any SQL of the role).
    static func trustsPlainSetting(_ expression: String) -> Bool {
        calls(expression, ["current_setting"], outsideSubSelectsOnly: false)
    }

    /// True when a function of `names` is called, outside string literals (and, when
    /// `outsideSubSelectsOnly`, outside any sub-select).
    static func calls(_ expression: String, _ names: Set<String>, outsideSubSelectsOnly: Bool) -> Bool {
        let scalars = Array(expression.unicodeScalars)
        var groups: [Bool] = []  // one per open parenthesis: does it hold a sub-select?
        var i = 0
        func isWordScalar(_ s: Unicode.Scalar) -> Bool { s == "_" || s.properties.isAlphabetic || ("0"..."9").contains(s) }
        while i < scalars.count {
            let c = scalars[i]
            if c == "'" || c == "\"" {
                i += 1
                while i < scalars.count {
                    if scalars[i] == c {
                        if i + 1 < scalars.count && scalars[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            } else if c == "(" {
                var j = i + 1
                while j < scalars.count && scalars[j].properties.isWhitespace { j += 1 }
                let word = String(String.UnicodeScalarView(scalars[j..<min(j + 6, scalars.count)])).uppercased()
                let after = j + 6 < scalars.count ? scalars[j + 6] : " "
                groups.append(word == "SELECT" && !isWordScalar(after))
                i += 1
            } else if c == ")" {
                _ = groups.popLast()
                i += 1
            } else if isWordScalar(c) {
                let start = i
                while i < scalars.count && isWordScalar(scalars[i]) { i += 1 }
                let word = String(String.UnicodeScalarView(scalars[start..<i])).lowercased()
                if names.contains(word) && !(outsideSubSelectsOnly && groups.contains(true)) { return true }
            } else {
                i += 1
            }
        }
        return false
    }
}

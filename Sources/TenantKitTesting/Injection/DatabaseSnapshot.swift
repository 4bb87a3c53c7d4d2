import Foundation
import TenantKitPostgres
import TenantKit

/// Everything an attacker must not touch, read as a superuser: take one before an attack and one
/// after, and ``differences(from:)`` says exactly what changed.
///
/// Sections (each a sorted list of rows as text):
/// - every row of every org but the attacker's own in every table with an organization column
///   (found in the catalog), rows without one (`org_id IS NULL`) included; every row of every
///   global table (the public catalog, `users` but the attacker's own row); every domain claim;
/// - the attacker's own standing: its memberships and roles, who belongs to its org, and, for a
///   principal that may not manage its org (viewers, keys), that org's memberships, invitations,
///   domains and API keys;
/// - invariants that must stay as they were: positive ledger entries of the attacker's org, accounts
///   whose balance differs from their ledger, runs that cost credits without a debit, API-key hashes
///   and prefixes held by two orgs, audit entries of the attacker's org written for someone else,
///   rows of its audit chain, chain heads that do not match their log;
/// - the catalog: every function in a non-system schema (definition, owner, ACL, SECURITY DEFINER,
///   `proconfig`), triggers (`tgenabled`), policies, every relation's owner, ACL and
///   `relrowsecurity` / `relforcerowsecurity`, column ACLs, schemas, the database's and languages'
///   ACLs, parameter ACLs, default privileges, extensions, event triggers, and the attributes,
///   settings and memberships of the `tenantkit_*` roles.
///
/// A section whose query fails (a table the schema no longer has) reads "unavailable" both times.
///
/// ```swift
/// let protection = try await DatabaseSnapshot.Protection.of(world.principal(.viewerOfA), on: admin)
/// let before = try await DatabaseSnapshot.take(on: admin, protecting: protection)
/// // ... the attack ...
/// let changes = try await DatabaseSnapshot.take(on: admin, protecting: protection).differences(from: before)
/// ```
public struct DatabaseSnapshot: Sendable, Equatable {
    /// How a section may change.
    public enum Rule: String, Sendable, Equatable {
        /// Not at all.
        case unchanged = "must not change"
        /// Rows may go, none may come (no one joins the attacker's org behind its back).
        case noNewRows = "must gain no rows"
        /// Rows may come, none may change or go (the attacker's audit chain grows, never rewrites).
        case noLostRows = "must lose or change no rows"
    }

    /// One part of the snapshot.
    public struct Section: Sendable, Equatable {
        /// What the section holds, e.g. `rows of other orgs and public rows in public.api_keys`.
        public let name: String
        /// How it may change.
        public let rule: Rule
        /// Its rows as text, sorted.
        public let rows: [String]
    }

    /// What a snapshot protects, fixed before the attack so that rows of organizations created during
    /// it (the attacker may create its own) are not mistaken for changes of another org.
    public struct Protection: Sendable, Hashable {
        /// Every organization that existed before the attack, except the attacker's own.
        public let protectedOrgIDs: [UUID]
        /// The attacker's own organization, if it has one.
        public let homeOrgID: UUID?
        /// The attacker's user or key (the other is nil).
        public let actorUserID: UUID?
        public let actorAPIKeyID: UUID?
        /// Whether the attacker may manage members, invitations, domains and keys of its org (admins).
        public let mayManageHome: Bool

        /// A protection from its parts; usually made by ``of(_:on:)``.
        public init(protectedOrgIDs: [UUID], homeOrgID: UUID?, actorUserID: UUID?, actorAPIKeyID: UUID?, mayManageHome: Bool) {
            self.protectedOrgIDs = protectedOrgIDs
            self.homeOrgID = homeOrgID
            self.actorUserID = actorUserID
            self.actorAPIKeyID = actorAPIKeyID
            self.mayManageHome = mayManageHome
        }

        /// The protection for an attacker: every org but its home, as the database holds them now.
        public static func of(_ principal: InjectionPrincipal, on admin: PostgresConnection) async throws -> Protection {
            let orgs = try await admin.fetchAll("SELECT id FROM public.organizations ORDER BY id", as: UUID.self)
            return Protection(
                protectedOrgIDs: orgs.filter { $0 != principal.homeOrgID }, homeOrgID: principal.homeOrgID,
                actorUserID: principal.userID, actorAPIKeyID: principal.apiKeyID, mayManageHome: principal.role == .admin)
        }
    }

    /// How one section changed.
    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        /// The section's name and rule.
        public let section: String
        public let rule: Rule
        /// Rows that appeared (counted against the rule).
        public let added: [String]
        /// Rows that went or changed (counted against the rule).
        public let removed: [String]

        public var description: String {
            func list(_ rows: [String]) -> String {
                let shown = rows.prefix(3).map { $0.count > 160 ? String($0.prefix(157)) + "..." : $0 }
                return shown.joined(separator: "; ") + (rows.count > 3 ? "; and \(rows.count - 3) more" : "")
            }
            var parts: [String] = []
            if !added.isEmpty { parts.append("\(added.count) new: \(list(added))") }
            if !removed.isEmpty { parts.append("\(removed.count) gone: \(list(removed))") }
            return "\(section) (\(rule.rawValue)): " + parts.joined(separator: " | ")
        }
    }

    /// Every section, in a fixed order.
    public let sections: [Section]

    /// Reads every section on a superuser connection.
    public static func take(on admin: PostgresConnection, protecting protection: Protection) async throws -> DatabaseSnapshot {
        var sections: [Section] = []
        for query in try await queries(protection, catalog: OrgTables.discover(on: admin)) {
            let rows: [String]
            do {
                rows = try await admin.fetchAll(query.sql, as: String?.self).map { $0 ?? "NULL" }.sorted()
            } catch let error as PostgresError {
                rows = ["unavailable: \(error.code.code) \(error.message)"]
            }
            sections.append(Section(name: query.name, rule: query.rule, rows: rows))
        }
        return DatabaseSnapshot(sections: sections)
    }

    /// What changed since `before`, against each section's rule; sections only one side has count as changed.
    public func differences(from before: DatabaseSnapshot) -> [Difference] {
        let old = Dictionary(before.sections.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var differences: [Difference] = []
        var names = Set<String>()
        for section in sections {
            names.insert(section.name)
            let previous = old[section.name]?.rows ?? []
            let added = Self.subtracting(section.rows, previous)
            let removed = Self.subtracting(previous, section.rows)
            let counted: (added: [String], removed: [String]) = switch section.rule {
            case .unchanged: (added, removed)
            case .noNewRows: (added, [])
            case .noLostRows: ([], removed)
            }
            if !counted.added.isEmpty || !counted.removed.isEmpty {
                differences.append(Difference(section: section.name, rule: section.rule, added: counted.added, removed: counted.removed))
            }
        }
        for section in before.sections where !names.contains(section.name) {
            differences.append(Difference(section: section.name, rule: section.rule, added: [], removed: section.rows))
        }
        return differences
    }

    /// The rows of `a` not in `b`, counting duplicates.
    private static func subtracting(_ a: [String], _ b: [String]) -> [String] {
        var remaining = Dictionary(b.map { ($0, 1) }, uniquingKeysWith: +)
        return a.filter { row in
            if let n = remaining[row], n > 0 { remaining[row] = n - 1; return false }
            return true
        }
    }

    // MARK: The sections

    private struct SectionQuery {
        let name: String
        let rule: Rule
        let sql: PostgresQuery
    }

    /// Tables protected whole, whoever's rows they hold: a domain claim needs proof even for the attacker's org.
    static let wholeTables: Set<String> = ["public.email_domain_claims"]

    private static func queries(_ p: Protection, catalog: OrgTables) throws -> [SectionQuery] {
        var queries: [SectionQuery] = []
        func add(_ name: String, _ rule: Rule = .unchanged, _ sql: PostgresQuery) {
            queries.append(SectionQuery(name: name, rule: rule, sql: sql))
        }
        let protected = p.protectedOrgIDs, home = p.homeOrgID, user = p.actorUserID, key = p.actorAPIKeyID
        let everyKnownOrg = protected + (home.map { [$0] } ?? [])

        // Data of every other org, public rows, global tables.
        for table in catalog.tables {
            let relation = PostgresIdentifier(table.schema).quoted + "." + PostgresIdentifier(table.name).quoted
            if wholeTables.contains(table.qualifiedName) {
                add("every row of \(table.qualifiedName)", .unchanged, PostgresQuery(unsafeSQL: "SELECT t::text FROM \(relation) t"))
            } else if let column = table.orgColumn {
                let org = "t." + PostgresIdentifier(column).quoted
                add("rows of other orgs and public rows in \(table.qualifiedName)", .unchanged, PostgresQuery(
                    unsafeSQL: "SELECT t::text FROM \(relation) t WHERE \(org) = ANY($1) OR \(org) IS NULL",
                    binds: try binds { try $0.append(protected) }))
            } else if table.qualifiedName == "public.users" {
                add("every row of public.users but the attacker's own", .unchanged, PostgresQuery(
                    unsafeSQL: "SELECT t::text FROM \(relation) t WHERE t.id IS DISTINCT FROM $1",
                    binds: try binds { try $0.append(user) }))
            } else {
                add("every row of \(table.qualifiedName)", .unchanged, PostgresQuery(unsafeSQL: "SELECT t::text FROM \(relation) t"))
            }
        }
        add("audit chain (seq, hash) of every other org", .unchanged, """
            SELECT org_id::text || ' #' || seq || ' ' || encode(hash, 'hex') FROM public.audit_log WHERE org_id = ANY(\(protected))
            """)

        // The attacker's own standing.
        add("the attacker's memberships", .unchanged, """
            SELECT org_id::text || ' ' || role FROM public.memberships WHERE user_id = \(user) AND org_id = ANY(\(everyKnownOrg))
            """)
        add("memberships of other users outside the attacker's org", .unchanged, """
            SELECT user_id::text || ' in ' || org_id::text || ' as ' || role FROM public.memberships
            WHERE user_id IS DISTINCT FROM \(user) AND org_id IS DISTINCT FROM \(home)
            """)
        add("users who belong to the attacker's org", .noNewRows, """
            SELECT user_id::text FROM public.memberships WHERE org_id = \(home)
            """)
        if !p.mayManageHome {
            for table in ["memberships", "invitations", "org_email_domains", "api_keys"] {
                // A key may record its own use (`tenantkit_use_api_key()`, at most once a minute,
                // as authenticating does): the attacker's own key may change its `last_used_at`,
                // nothing else.
                let row = table == "api_keys"
                    ? "(to_jsonb(t) - CASE WHEN t.id = $2::uuid THEN 'last_used_at' ELSE '' END)::text"
                    : "t::text"
                add("the attacker's org's \(table) (it may not manage them)", .unchanged, PostgresQuery(
                    unsafeSQL: "SELECT \(row) FROM public.\(PostgresIdentifier(table).quoted) t WHERE t.org_id = $1",
                    binds: try binds { try $0.append(home); if table == "api_keys" { try $0.append(key) } }))
            }
        }

        // Invariants.
        add("positive ledger entries (grants) of the attacker's org", .noNewRows, """
            SELECT l::text FROM public.ecu_ledger l WHERE l.org_id = \(home) AND l.amount > 0
            """)
        add("accounts whose balance differs from their ledger", .unchanged, """
            SELECT a.org_id::text || ': balance ' || a.balance || ', ledger ' || coalesce(s.total, 0)
            FROM public.ecu_accounts a
            LEFT JOIN (SELECT org_id, sum(amount) AS total FROM public.ecu_ledger GROUP BY org_id) s USING (org_id)
            WHERE a.balance <> coalesce(s.total, 0)
            """)
        add("runs that cost credits without a debit", .unchanged, """
            SELECT r.org_id::text || ' run ' || r.id::text || ' cost ' || r.cost FROM public.runs r
            WHERE r.cost > 0 AND NOT EXISTS (SELECT 1 FROM public.ecu_ledger l WHERE l.org_id = r.org_id AND l.run_id = r.id)
            """)
        add("active API-key hashes held by more than one org", .unchanged, """
            SELECT encode(key_hash, 'hex') FROM public.api_keys WHERE revoked_at IS NULL
            GROUP BY key_hash HAVING count(DISTINCT org_id) > 1
            """)
        add("active API-key prefixes held by more than one org", .unchanged, """
            SELECT prefix || ' held by ' || count(DISTINCT org_id) || ' orgs' FROM public.api_keys WHERE revoked_at IS NULL
            GROUP BY prefix HAVING count(DISTINCT org_id) > 1
            """)
        add("audit entries of the attacker's org written for another actor", .noNewRows, """
            SELECT seq || ' ' || action || ' by user ' || coalesce(actor_user_id::text, '-') || ', key ' || coalesce(actor_api_key_id::text, '-')
            FROM public.audit_log
            WHERE org_id = \(home) AND (actor_user_id IS DISTINCT FROM \(user) OR actor_api_key_id IS DISTINCT FROM \(key))
            """)
        add("audit chain (seq, hash) of the attacker's org", .noLostRows, """
            SELECT seq || ' ' || encode(hash, 'hex') FROM public.audit_log WHERE org_id = \(home)
            """)
        add("audit chain heads that do not match their log", .unchanged, """
            SELECT h.org_id::text || ' head #' || h.last_seq FROM public.audit_chain_heads h
            WHERE (h.last_seq, h.last_hash) IS DISTINCT FROM
                  (SELECT a.seq, a.hash FROM public.audit_log a WHERE a.org_id = h.org_id ORDER BY a.seq DESC LIMIT 1)
            """)

        // The catalog.
        let schemas = OrgTables.userSchemaCondition
        add("functions", .unchanged, """
            SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') returns '
                   || p.prorettype::regtype::text || ' language ' || l.lanname || ' volatility ' || p.provolatile
                   || ' owner ' || pg_get_userbyid(p.proowner) || ' acl ' || coalesce(p.proacl::text, 'default')
                   || ' security definer ' || p.prosecdef || ' config ' || coalesce(p.proconfig::text, '{}')
                   || ' body ' || md5(coalesce(p.prosrc, '') || coalesce(p.probin, ''))
            FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE \(unsafeRaw: schemas)
            """)
        add("triggers", .unchanged, """
            SELECT c.oid::regclass::text || ' ' || t.tgname || ' enabled ' || t.tgenabled || ' ' || md5(pg_get_triggerdef(t.oid))
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND \(unsafeRaw: schemas)
            """)
        add("policies", .unchanged, """
            SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' to ' || roles::text
                   || ' for ' || cmd || ' using ' || coalesce(qual, '-') || ' check ' || coalesce(with_check, '-')
            FROM pg_catalog.pg_policies n WHERE n.schemaname !~ '^pg_(toast_)?temp_'
            """)
        add("relations (owner, ACL, row-level security)", .unchanged, """
            SELECT n.nspname || '.' || c.relname || ' kind ' || c.relkind || ' owner ' || pg_get_userbyid(c.relowner)
                   || ' acl ' || coalesce(c.relacl::text, 'default') || ' rls ' || c.relrowsecurity
                   || ' force ' || c.relforcerowsecurity || ' options ' || coalesce(c.reloptions::text, '{}')
                   || CASE WHEN c.relkind IN ('v', 'm') THEN ' view ' || md5(pg_get_viewdef(c.oid)) ELSE '' END
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND \(unsafeRaw: schemas)
            """)
        add("column ACLs", .unchanged, """
            SELECT c.oid::regclass::text || '.' || a.attname || ' ' || a.attacl::text
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE a.attacl IS NOT NULL AND \(unsafeRaw: schemas)
            """)
        add("schemas", .unchanged, """
            SELECT n.nspname || ' owner ' || pg_get_userbyid(n.nspowner) || ' acl ' || coalesce(n.nspacl::text, 'default')
            FROM pg_catalog.pg_namespace n WHERE \(unsafeRaw: schemas)
            """)
        add("database ACL", .unchanged, """
            SELECT 'owner ' || pg_get_userbyid(datdba) || ' acl ' || coalesce(datacl::text, 'default')
            FROM pg_catalog.pg_database WHERE datname = current_database()
            """)
        add("language ACLs", .unchanged, """
            SELECT lanname || ' acl ' || coalesce(lanacl::text, 'default') FROM pg_catalog.pg_language
            """)
        add("parameter ACLs", .unchanged, """
            SELECT parname || ' acl ' || coalesce(paracl::text, 'default') FROM pg_catalog.pg_parameter_acl
            """)
        add("default privileges", .unchanged, """
            SELECT pg_get_userbyid(defaclrole) || ' ' || defaclobjtype || ' in ' || coalesce(defaclnamespace::regnamespace::text, 'every schema')
                   || ' ' || defaclacl::text
            FROM pg_catalog.pg_default_acl
            """)
        // A prepared transaction outlives its connection: its locks, its snapshot's hold on vacuum and
        // a slot of max_prepared_transactions (which Citus's own two-phase commits need).
        add("prepared transactions in this database", .unchanged, """
            SELECT gid || ' owner ' || owner FROM pg_catalog.pg_prepared_xacts WHERE database = current_database()
            """)
        add("extensions", .unchanged, "SELECT extname || ' ' || extversion FROM pg_catalog.pg_extension")
        add("event triggers", .unchanged, "SELECT evtname || ' ' || evtevent || ' ' || evtenabled FROM pg_catalog.pg_event_trigger")
        add("attributes of the tenantkit roles", .unchanged, """
            SELECT rolname || ' superuser ' || rolsuper || ' inherit ' || rolinherit || ' createrole ' || rolcreaterole
                   || ' createdb ' || rolcreatedb || ' login ' || rolcanlogin || ' replication ' || rolreplication
                   || ' bypassrls ' || rolbypassrls || ' connlimit ' || rolconnlimit || ' config ' || coalesce(rolconfig::text, '{}')
            FROM pg_catalog.pg_roles WHERE rolname LIKE 'tenantkit%'
            """)
        add("settings of roles in this database", .unchanged, """
            SELECT CASE WHEN s.setdatabase = 0 THEN 'every database' ELSE 'this database' END || ', '
                   || coalesce(r.rolname, 'every role') || ': ' || s.setconfig::text
            FROM pg_catalog.pg_db_role_setting s LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
            WHERE s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
            """)
        // Roles are cluster-wide: tests running beside the suite create and drop their throwaway
        // roles (named tk_throwaway_*) meanwhile. No attack in the threat model can create a role.
        add("memberships of the tenantkit roles", .unchanged, """
            SELECT r.rolname || ' has member ' || m.rolname || ' admin ' || a.admin_option
            FROM pg_catalog.pg_auth_members a
            JOIN pg_catalog.pg_roles r ON r.oid = a.roleid
            JOIN pg_catalog.pg_roles m ON m.oid = a.member
            WHERE (r.rolname LIKE 'tenantkit%' OR m.rolname LIKE 'tenantkit%')
              AND m.rolname NOT LIKE 'tk\\_throwaway\\_%'
            """)
        return queries
    }

    private static func binds(_ fill: (inout PostgresBindings) throws -> Void) throws -> PostgresBindings {
        var binds = PostgresBindings()
        try fill(&binds)
        return binds
    }
}

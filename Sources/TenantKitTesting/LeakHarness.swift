import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit
import TenantSQL

/// A two-organization leak test you run against your own schema: it seeds two organizations with
/// overlapping data, then, connected as the application role, checks every tenant table (and any
/// repository call you add as a ``LeakProbe``) for rows of the other organization.
///
/// For each table with an `org_id` column (found in the catalog, plus ``extraTables`` such as
/// `organizations`, whose organization column is `id`), as org A and again as org B, it asserts that
/// - `SELECT` sees no row of the other org,
/// - `UPDATE` and `DELETE` aimed at the other org's rows touch nothing,
/// - `INSERT` of a row carrying the other org's id is refused,
/// - with no organization set, no organization's rows are visible;
///
/// and, from the catalog, that each such table has row-level security enabled and forced, and a
/// permissive policy whose expressions compare with the verified org (`tenantkit.current_org()`).
/// Each org acts through ``context`` (TenantKit's signed context with the test key by default),
/// as its admin user. Writes run in transactions that are always rolled back: the database is
/// left as seeded.
///
/// ```swift
/// @Test func widgetsDoNotLeak() async throws {
///     try await TestDatabase.with(template: .migrated) { db in
///         // Your migration added `widgets (org_id uuid, id uuid, name text)` with RLS.
///         var harness = LeakHarness(database: db)
///         harness.seeders.append(LeakHarness.Seeder("widgets") { admin, org in
///             try await admin.execute("INSERT INTO widgets (org_id, name) VALUES (\(org.id), 'same name in both orgs')")
///         })
///         harness.probes.append(LeakProbe("WidgetStore.list") { org, pool in
///             try await WidgetStore(scope: harness.scope(org, on: pool)).list().map(\.orgID)
///         })
///         let report = try await harness.run()
///         try report.requireNoLeaks()  // throws LeakError naming each table and operation: fails the test
///     }
/// }
/// ```
///
/// Superusers and `BYPASSRLS` roles bypass row-level security: run the harness with the role your
/// application logs in as (``appConfiguration``), never a superuser.
public struct LeakHarness: Sendable {
    /// One of the two organizations the harness creates.
    public struct Org: Sendable, Hashable, CustomStringConvertible {
        /// The organization's id, the value of `org_id` in its rows.
        public let id: UUID
        /// A user who belongs to it (an admin), for repository calls that need an actor.
        public let userID: UUID
        /// `A` or `B`.
        public let label: String

        public init(id: UUID, userID: UUID, label: String) {
            self.id = id
            self.userID = userID
            self.label = label
        }

        public var description: String { "org \(label)" }
    }

    /// Creates one organization and its first user, connected with ``adminConfiguration``.
    public typealias OrgMaker = @Sendable (_ admin: PostgresConnection, _ label: String) async throws -> Org

    /// Writes rows of one table for one organization, connected with ``adminConfiguration`` (which
    /// bypasses row-level security). Run once for A and once for B: write the same values for both
    /// (the same names, slugs, keys), so that "overlapping data" is what the checks look through.
    public struct Seeder: Sendable {
        public let name: String
        public let seed: @Sendable (_ admin: PostgresConnection, _ org: Org) async throws -> Void

        public init(_ name: String, seed: @escaping @Sendable (_ admin: PostgresConnection, _ org: Org) async throws -> Void) {
            self.name = name
            self.seed = seed
        }
    }

    /// A tenant table the catalog discovery does not find: its organization column is not `org_id`.
    public struct TableSpec: Sendable, Hashable {
        public let name: String
        public let orgColumn: String
        public init(_ name: String, orgColumn: String) {
            self.name = name
            self.orgColumn = orgColumn
        }
    }

    /// Connects as a role that bypasses row-level security (a superuser): seeds, and counts the truth.
    public var adminConfiguration: PostgresConfiguration
    /// Connects as the application role: every check runs as this role.
    public var appConfiguration: PostgresConfiguration
    /// Creates org A and org B. Defaults to TenantKit's `tenantkit_create_organization`.
    public var makeOrg: OrgMaker
    /// Run for each organization after both exist, in order. Defaults to seeding every TenantKit table.
    public var seeders: [Seeder]
    /// Tenant tables whose organization column is not `org_id`.
    public var extraTables: [TableSpec]
    /// Tables (by name) the checks skip; they are listed in the report.
    public var excludedTables: Set<String>
    /// Repository calls run as each organization.
    public var probes: [LeakProbe]
    /// The schema whose tables are checked.
    public var schema: String
    /// How each organization's checks establish their context in the database.
    public var context: any TenantContext

    /// A harness for a schema in `adminConfiguration`'s database, checked as `appConfiguration`.
    public init(adminConfiguration: PostgresConfiguration, appConfiguration: PostgresConfiguration) {
        self.adminConfiguration = adminConfiguration
        self.appConfiguration = appConfiguration
        self.makeOrg = LeakHarness.tenantKitOrg
        self.seeders = LeakHarness.tenantKitSeeders
        self.extraTables = [TableSpec("organizations", orgColumn: "id")]
        self.excludedTables = []
        self.probes = []
        self.schema = "public"
        self.context = SignedTenantContext(key: .forTesting)
    }

    /// A scope of `org`, as its admin user, through ``context``: what a ``LeakProbe`` acts in.
    public func scope(_ org: Org, on pool: PostgresPool) -> OrgScope {
        OrgScope(orgID: org.id, actor: .user(org.userID), context: context, on: pool)
    }

    /// A harness for a ``TestDatabase``: seeds as its superuser, checks as `appRole`.
    public init(database: TestDatabase, appRole: String = "tenantkit_app") {
        self.init(adminConfiguration: database.configuration, appConfiguration: database.configuration.with(user: appRole))
    }

    // MARK: Running

    /// Seeds both organizations, runs every check and probe, and reports what leaked.
    /// Throws only when seeding or connecting fails; leaks are in the report.
    public func run() async throws -> LeakReport {
        let (a, b) = try await seed()
        return try await check(a: a, b: b)
    }

    /// Creates org A and org B with ``makeOrg`` and runs every ``seeders`` entry for each.
    public func seed() async throws -> (a: Org, b: Org) {
        let admin = try await PostgresConnection.connect(adminConfiguration, logger: TestDatabase.logger)
        do {
            let a = try await makeOrg(admin, "A")
            let b = try await makeOrg(admin, "B")
            for seeder in seeders {
                for org in [a, b] {
                    do {
                        try await seeder.seed(admin, org)
                    } catch {
                        throw LeakHarnessError("seeder \(seeder.name) failed for \(org): \(Self.describe(error))")
                    }
                }
            }
            await admin.close()
            return (a, b)
        } catch {
            await admin.close()
            throw error
        }
    }

    /// Runs every check and probe for two organizations that already hold data (for example made by
    /// ``seed()``, or by your own fixtures).
    public func check(a: Org, b: Org) async throws -> LeakReport {
        let admin = try await PostgresConnection.connect(adminConfiguration, logger: TestDatabase.logger)
        let targets: [TableTarget]
        do {
            targets = try await tables(admin)
        } catch {
            await admin.close()
            throw error
        }
        defer { Task { await admin.close() } }

        let app = try await PostgresConnection.connect(appConfiguration, logger: TestDatabase.logger)
        var leaks: [Leak] = []
        var uncovered: [String] = []
        var checked: [String] = []
        do {
            for target in targets {
                let counts = try await rowCounts(target, a: a, b: b, admin: admin)
                if counts.a == 0 || counts.b == 0 {
                    uncovered.append("table \(target.name): no rows of \(counts.a == 0 ? a : b) were seeded, so reads cannot be checked")
                }
                checked.append(target.name)
                for (me, other) in [(a, b), (b, a)] {
                    leaks += try await check(target, as: me, other: other, on: app)
                }
                leaks += try await checkNoContext(target, on: app)
            }
        } catch {
            await app.close()
            throw error
        }
        await app.close()

        if !probes.isEmpty {
            let pool = PostgresPool(configuration: appConfiguration, maxConnections: 2, logger: TestDatabase.logger)
            for probe in probes {
                var sawOwn = false
                for (me, other) in [(a, b), (b, a)] {
                    do {
                        let owners = try await probe.run(me, pool)
                        sawOwn = sawOwn || owners.contains(me.id)
                        let foreign = owners.filter { $0 == other.id }.count
                        if foreign > 0 {
                            leaks.append(Leak(table: probe.name, operation: .probe, as: me, detail: "returned \(foreign) row(s) of \(other)"))
                        }
                    } catch {
                        leaks.append(Leak(table: probe.name, operation: .probe, as: me, detail: "failed: \(Self.describe(error))"))
                    }
                }
                if !sawOwn { uncovered.append("probe \(probe.name): returned no row of its own org for A or B") }
            }
            await pool.close()
        }

        let catalog = try await LeakHarness.catalogSweep(configuration: appConfiguration, schema: schema)
        return LeakReport(
            orgA: a, orgB: b, tablesChecked: checked, excludedTables: excludedTables.sorted(),
            leaks: leaks, catalogFindings: catalog, uncovered: uncovered)
    }

    // MARK: The checks

    struct TableTarget: Sendable {
        let name: String
        let orgColumn: String
        /// Columns the app role may INSERT (organization column excluded).
        let insertable: [String]
        /// A column the app role may UPDATE, if any.
        let updatable: String?
        let orgColumnNullable: Bool
    }

    private func tables(_ admin: PostgresConnection) async throws -> [TableTarget] {
        struct Row: Decodable { let name: String; let orgColumn: String }
        let discovered = try await admin.fetchAll("""
            SELECT c.relname::text AS name, 'org_id' AS org_column
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
            WHERE n.nspname = \(schema) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY 1
            """, as: Row.self)
        var specs = discovered.map { TableSpec($0.name, orgColumn: $0.orgColumn) }
        for extra in extraTables where !specs.contains(where: { $0.name == extra.name }) { specs.append(extra) }
        var targets: [TableTarget] = []
        let appRole = appConfiguration.user ?? "tenantkit_app"
        for spec in specs where !excludedTables.contains(spec.name) {
            struct Column: Decodable { let name: String; let insertable: Bool; let updatable: Bool; let nullable: Bool }
            let relation = "\(PostgresIdentifier(schema)).\(PostgresIdentifier(spec.name))"
            let columns = try await admin.fetchAll("""
                SELECT a.attname::text AS name,
                       has_column_privilege(\(appRole), a.attrelid, a.attnum, 'INSERT') AS insertable,
                       has_column_privilege(\(appRole), a.attrelid, a.attnum, 'UPDATE') AS updatable,
                       NOT a.attnotnull AS nullable
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = \(relation)::regclass AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.attgenerated = '' AND a.attidentity <> 'a'
                ORDER BY a.attnum
                """, as: Column.self)
            guard let org = columns.first(where: { $0.name == spec.orgColumn }) else {
                throw LeakHarnessError("table \(spec.name) has no column \(spec.orgColumn)")
            }
            targets.append(TableTarget(
                name: spec.name, orgColumn: spec.orgColumn,
                insertable: columns.filter { $0.insertable && $0.name != spec.orgColumn }.map(\.name),
                updatable: columns.first { $0.updatable && $0.name != spec.orgColumn }?.name
                    ?? (org.updatable ? spec.orgColumn : nil),
                orgColumnNullable: org.nullable))
        }
        return targets
    }

    private func rowCounts(_ t: TableTarget, a: Org, b: Org, admin: PostgresConnection) async throws -> (a: Int, b: Int) {
        struct Counts: Decodable { let a: Int; let b: Int }
        let counts = try await admin.fetchOne("""
            SELECT count(*) FILTER (WHERE \(identifier: t.orgColumn) = \(a.id)) AS a,
                   count(*) FILTER (WHERE \(identifier: t.orgColumn) = \(b.id)) AS b
            FROM \(unsafeRaw: qualified(t))
            """, as: Counts.self)
        return (counts.a, counts.b)
    }

    private func qualified(_ t: TableTarget) -> String {
        "\(PostgresIdentifier(schema)).\(PostgresIdentifier(t.name))"
    }

    /// The four operations as `me`, aimed at `other`'s rows; each in a transaction that is rolled back.
    private func check(_ t: TableTarget, as me: Org, other: Org, on app: PostgresConnection) async throws -> [Leak] {
        var leaks: [Leak] = []
        let table = qualified(t)
        let column = PostgresIdentifier(t.orgColumn).quoted

        // SELECT: none of the other org's rows, whether asked for by id or not.
        let seen = try await probeStatement(as: me, on: app, """
            SELECT count(*) FROM \(unsafeRaw: table) WHERE \(unsafeRaw: column) = \(other.id)
            """, reading: true)
        if case .rows(let n) = seen, n > 0 {
            leaks.append(Leak(table: t.name, operation: .select, as: me, detail: "saw \(n) row(s) of \(other)"))
        }
        let stray = try await probeStatement(as: me, on: app, """
            SELECT count(*) FROM \(unsafeRaw: table) WHERE \(unsafeRaw: column) IS DISTINCT FROM \(me.id) AND \(unsafeRaw: column) IS NOT NULL
            """, reading: true)
        if case .rows(let n) = stray, n > 0 {
            leaks.append(Leak(table: t.name, operation: .select, as: me, detail: "saw \(n) row(s) of organizations other than its own"))
        }

        // UPDATE: touches nothing of the other org.
        if let target = t.updatable {
            let col = PostgresIdentifier(target).quoted
            let updated = try await probeStatement(as: me, on: app, """
                UPDATE \(unsafeRaw: table) SET \(unsafeRaw: col) = \(unsafeRaw: col) WHERE \(unsafeRaw: column) = \(other.id)
                """, reading: false)
            if case .rows(let n) = updated, n > 0 {
                leaks.append(Leak(table: t.name, operation: .update, as: me, detail: "updated \(n) row(s) of \(other)"))
            }
            // Moving one's own row into the other org must be refused.
            let moved = try await probeStatement(as: me, on: app, """
                UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = \(other.id) WHERE \(unsafeRaw: column) = \(me.id)
                """, reading: false)
            if case .rows(let n) = moved, n > 0 {
                leaks.append(Leak(table: t.name, operation: .update, as: me, detail: "moved \(n) of its row(s) into \(other)"))
            }
        }

        // DELETE: removes nothing of the other org.
        let deleted = try await probeStatement(as: me, on: app, """
            DELETE FROM \(unsafeRaw: table) WHERE \(unsafeRaw: column) = \(other.id)
            """, reading: false)
        if case .rows(let n) = deleted, n > 0 {
            leaks.append(Leak(table: t.name, operation: .delete, as: me, detail: "deleted \(n) row(s) of \(other)"))
        }

        // INSERT: a copy of one of its own rows, relabelled with the other org's id, is refused.
        let columns = t.insertable.map { PostgresIdentifier($0).quoted }
        let list = ([column] + columns).joined(separator: ", ")
        let values = (["$1::uuid"] + columns).joined(separator: ", ")
        let copy = PostgresQuery(unsafeSQL: "INSERT INTO \(table) (\(list)) SELECT \(values) FROM \(table) WHERE \(column) = $2 LIMIT 1",
                                 binds: try Self.binds(other.id, me.id))
        let inserted = try await probeStatement(as: me, on: app, copy, reading: false)
        if case .rows(let n) = inserted, n > 0 {
            leaks.append(Leak(table: t.name, operation: .insert, as: me, detail: "inserted \(n) row(s) with \(other)'s id"))
        }
        return leaks
    }

    /// With no organization set, no organization's rows are visible.
    private func checkNoContext(_ t: TableTarget, on app: PostgresConnection) async throws -> [Leak] {
        let result = try await probeStatement(as: nil, on: app, """
            SELECT count(*) FROM \(unsafeRaw: qualified(t)) WHERE \(identifier: t.orgColumn) IS NOT NULL
            """, reading: true)
        if case .rows(let n) = result, n > 0 {
            return [Leak(table: t.name, operation: .selectWithoutContext, as: nil, detail: "saw \(n) organization row(s) with no organization set")]
        }
        return []
    }

    enum Outcome { case rows(Int), refused }

    /// Runs one statement as the app with `org` set (or nothing set), then rolls back. A refusal by
    /// the database (permission, policy, constraint, trigger) is not a leak.
    private func probeStatement(as org: Org?, on app: PostgresConnection, _ statement: PostgresQuery, reading: Bool) async throws -> Outcome {
        struct Rollback: Error { let outcome: Int }
        let prelude = try org.map { [try context.statement(orgID: $0.id, actor: .user($0.userID), backendPID: app.backendPID)] } ?? []
        do {
            _ = try await app.withTransaction(prelude: prelude) { tx -> Int in
                let rows = try await tx.query(statement)
                let n = reading ? try (rows.first?.decode(as: Int.self) ?? 0) : rows.affectedRows
                throw Rollback(outcome: n)
            }
        } catch let rollback as Rollback {
            return .rows(rollback.outcome)
        } catch is PostgresError {
            return .refused
        }
        return .refused
    }

    private static func binds(_ values: UUID...) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { try binds.append(value) }
        return binds
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresError { return error.detailedDescription }
        return "\(error)"
    }
}

/// A repository call run as each organization by ``LeakHarness``: it returns the organization id
/// of every row it got back (nil for global or public rows). A row of the other org is a leak.
///
/// ```swift
/// LeakProbe("catalog.list") { org, pool in
///     try await CatalogStore(pool: pool).list(orgID: org.id, actor: org.userID).map(\.orgID)
/// }
/// ```
public struct LeakProbe: Sendable {
    public let name: String
    public let run: @Sendable (_ org: LeakHarness.Org, _ appPool: PostgresPool) async throws -> [UUID?]

    public init(_ name: String, run: @escaping @Sendable (_ org: LeakHarness.Org, _ appPool: PostgresPool) async throws -> [UUID?]) {
        self.name = name
        self.run = run
    }
}

/// One way the other organization's rows could be reached.
public struct Leak: Sendable, Hashable, CustomStringConvertible {
    public enum Operation: String, Sendable, Hashable {
        case select = "SELECT"
        case selectWithoutContext = "SELECT with no org set"
        case update = "UPDATE"
        case delete = "DELETE"
        case insert = "INSERT"
        case probe = "probe"
    }

    /// The table (or probe) that leaked.
    public let table: String
    public let operation: Operation
    /// The organization the check ran as (nil: no organization set).
    public let org: LeakHarness.Org?
    /// What happened, such as "saw 2 row(s) of org B". Counts only, never row data.
    public let detail: String

    init(table: String, operation: Operation, as org: LeakHarness.Org?, detail: String) {
        self.table = table
        self.operation = operation
        self.org = org
        self.detail = detail
    }

    public var description: String { "\(table): \(operation.rawValue) as \(org.map(\.description) ?? "no org") \(detail)" }
}

/// What ``LeakHarness/run()`` found.
public struct LeakReport: Sendable, CustomStringConvertible {
    public let orgA: LeakHarness.Org
    public let orgB: LeakHarness.Org
    /// The tables checked, by name.
    public let tablesChecked: [String]
    public let excludedTables: [String]
    /// Every leak, by table and operation; empty when isolation holds.
    public let leaks: [Leak]
    /// Tenant tables whose row-level security setup is wrong (see ``LeakHarness/catalogSweep(configuration:schema:)``).
    public let catalogFindings: [CatalogFinding]
    /// Checks that could not prove anything (a table or probe with no rows for an org). Not leaks,
    /// but a harness that sees nothing proves nothing: ``requireNoLeaks(allowingUncovered:)`` fails on them.
    public let uncovered: [String]

    /// True when nothing leaked, the catalog is clean, and every check saw data.
    public var isClean: Bool { leaks.isEmpty && catalogFindings.isEmpty && uncovered.isEmpty }

    /// Throws ``LeakError`` (which fails the test it is thrown from) unless the report is clean.
    public func requireNoLeaks(allowingUncovered: Bool = false) throws {
        if !leaks.isEmpty || !catalogFindings.isEmpty || (!allowingUncovered && !uncovered.isEmpty) {
            throw LeakError(report: self)
        }
    }

    public var description: String {
        var lines = ["leak harness: \(tablesChecked.count) tables checked, \(leaks.count) leak(s), "
            + "\(catalogFindings.count) catalog finding(s), \(uncovered.count) uncovered"]
        lines += leaks.map { "  leak: \($0)" }
        lines += catalogFindings.map { "  catalog: \($0)" }
        lines += uncovered.map { "  uncovered: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// Thrown by ``LeakReport/requireNoLeaks(allowingUncovered:)``; its description lists every leak.
public struct LeakError: Error, Sendable, CustomStringConvertible {
    public let report: LeakReport
    public var description: String { report.description }
}

/// The harness could not set up its organizations or data.
public struct LeakHarnessError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import Logging
import Synchronization
import TenantKit
import TenantKitPostgres
import TenantKitTesting
import TenantSQL
import Testing

/// What TenantKit's repositories do on the distributed schema: their statements are router plans,
/// their errors keep their meaning, and the leak harness finds nothing. Part of the opt-in
/// `CitusDistributionTests` (it needs the distributed database that suite builds).
extension CitusTestCluster {
    /// The key `CitusDistributionTests` installs.
    static let key = try! TenantContextKey(secret: [UInt8](repeating: 0xab, count: 32))

    /// One flow of the product, as its repositories run it, and the scope its statements run in.
    struct Flow: Sendable {
        let name: String
        let scope: OrgScope
        let run: @Sendable () async throws -> Void
    }

    /// How Citus plans one statement a flow sent.
    struct Plan: Sendable, CustomStringConvertible {
        let flow: String
        let sql: String
        let explain: [String]

        /// One task on one node: Citus routes the statement to one shard group.
        var isRouter: Bool {
            explain.contains { $0.contains("Custom Scan (Citus") } && explain.contains { $0.trimmingCharacters(in: .whitespaces) == "Task Count: 1" }
                && !explain.contains { $0.contains("Distributed Subplan") }
        }
        /// A plan without any Citus node: no distributed or reference table, run by the coordinator alone.
        var isCoordinatorOnly: Bool { !explain.contains { $0.contains("Citus") } }
        var description: String { "[\(flow)] \(sql)\n    " + explain.joined(separator: "\n    ") }
    }

    /// Every scoped statement of the main flows (catalog page, run start, credits, members, audit,
    /// an API key's request), captured as the repositories send it and EXPLAINed in its own scope:
    /// each is a router plan (Citus "Task Count: 1").
    func everyScopedStatementIsARouterPlan() async throws {
        let pool = PostgresPool(configuration: coordinator.with(user: "tenantkit_app"), maxConnections: 2, taintedConnections: .close)
        let operators = PostgresPool(configuration: coordinator, maxConnections: 1)
        let store = TenantStore(pool: pool, key: Self.key, transport: .setLocal)
        let cy = try await store.createUser(email: "cy@initech.test", emailVerified: true)
        let org = try await store.createOrganization(named: "Initech", by: cy.id)
        let active = ActiveOrg(scope: store.scope(org, as: .user(cy.id)))
        _ = try await store.platformOperator(UUID(), in: org, on: operators).credits.grant(100, reason: "bought", idempotencyKey: "grant-1")
        let item = try await active.catalog.create(kind: "model", slug: "router-item", name: "Router item")
        let issued = try await active.apiKeys.create(name: "ci")
        let presented = try await store.authenticate(apiKey: issued.secret)
        let byKey = ActiveOrg(scope: store.scope(presented.orgID, as: presented.actor))

        let flows = [
            Flow(name: "catalog page", scope: active.scope) { _ = try await active.catalog.page(kind: "model") },
            Flow(name: "run start", scope: active.scope) {
                _ = try await active.runs.start(itemID: item.id, cost: 5, idempotencyKey: "run-1")
            },
            Flow(name: "credits balance", scope: active.scope) { _ = try await active.credits.balance() },
            Flow(name: "credits history", scope: active.scope) { _ = try await active.credits.history() },
            Flow(name: "members page", scope: active.scope) { _ = try await active.members.page() },
            Flow(name: "audit page", scope: active.scope) { _ = try await active.audit.page() },
            Flow(name: "API key: authenticate", scope: byKey.scope) { _ = try await store.authenticate(apiKey: issued.secret) },
            Flow(name: "API key: run start", scope: byKey.scope) {
                _ = try await byKey.runs.start(itemID: item.id, cost: 1, idempotencyKey: "run-2")
            },
            Flow(name: "API key: runs page", scope: byKey.scope) { _ = try await byKey.runs.page() },
        ]
        var plans: [Plan] = []
        for flow in flows {
            let sent = try await Self.statements { try await flow.run() }
            #expect(!sent.isEmpty, "\(flow.name) sent no statement")
            for statement in sent {
                let rows = try await flow.scope.query(PostgresQuery(unsafeSQL: "EXPLAIN (COSTS OFF) " + statement.sql, binds: statement.binds))
                plans.append(Plan(flow: flow.name, sql: statement.sql, explain: try rows.map { try $0.decode(String.self, at: 0) }))
            }
        }
        print("CitusDistributionTests: \(plans.count) scoped statements EXPLAINed:\n" + plans.map(\.description).joined(separator: "\n"))
        // Two statements name no table: `store.authenticate`'s `tenantkit_use_api_key()`, whose
        // UPDATE of `api_keys.last_used_at` (at most once a minute per key) writes the reference
        // table on every node in a transaction of its own, and a key scope's own context
        // statement `tenantkit_check_api_key()`, which only checks the key.
        let tableless = plans.filter(\.isCoordinatorOnly)
        #expect(Set(tableless.map(\.sql)) == ["SELECT tenantkit_use_api_key()", "SELECT tenantkit_check_api_key()"], "\(tableless)")
        let elsewhere = plans.filter { !$0.isRouter && !$0.isCoordinatorOnly }
        #expect(elsewhere.isEmpty, "statements that are not router plans:\n\(elsewhere.map(\.description).joined(separator: "\n"))")
        // Every flow but the bare key check reads or writes through a router plan.
        #expect(Set(plans.filter(\.isRouter).map(\.flow)) == Set(flows.map(\.name)).subtracting(["API key: authenticate"]))

        // Recording a key's use is the owner's write to `api_keys`, a reference table. Citus
        // refuses, in one transaction, a statement reading a reference table beside the org's
        // shards after another user modified any reference table ("cannot perform query on
        // placements that were modified in this transaction by a different user": the run start's
        // catalog read, since the private items are distributed). So a key's request only checks
        // the key, and authenticating records the use in a transaction of its own.
        try await withConnection(coordinator) { admin in
            _ = try await admin.execute("UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = \(issued.key.id)")
        }
        let run = try await byKey.runs.start(itemID: item.id, cost: 1, idempotencyKey: "run-3")
        #expect(run.apiKeyID == issued.key.id)
        func recentlyUsed() async throws -> Bool {
            try await withConnection(coordinator) { admin in
                try await admin.fetchOne("SELECT last_used_at > now() - interval '1 minute' FROM api_keys WHERE id = \(issued.key.id)", as: Bool.self)
            }
        }
        #expect(try await !recentlyUsed(), "the run's transaction wrote nothing to api_keys")
        _ = try await store.authenticate(apiKey: issued.secret)
        #expect(try await recentlyUsed(), "authenticating recorded the key's use")
        await pool.close()
        await operators.close()
    }

    /// The statements (SELECT, INSERT, UPDATE, DELETE, WITH, and a parenthesized union such as
    /// the catalog page) `body` sends, with their binds, as the driver logs them to the task's
    /// statement logger; the context's own (BEGIN, SET LOCAL, COMMIT) are left out.
    static func statements(_ body: () async throws -> Void) async throws -> [PostgresQuery] {
        let captured = CapturedStatements()
        var logger = Logger(label: "tenantkit.citus.capture") { _ in CapturedStatements.Handler(captured: captured) }
        logger.logLevel = .debug
        try await StatementLogger.with(logger) { try await body() }
        let kinds = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "(SELECT"]
        return captured.all.filter { query in kinds.contains { query.sql.uppercased().hasPrefix($0) } }
    }

    /// The same calls with the same mistakes, on one server and on the cluster, end in the same
    /// TenantError: a duplicate slug, email and domain, an overdraft of a run and of a debit, and
    /// auto-join on an unverified domain. On the cluster the server's error has lost its
    /// constraint name (the premise of the mapping by message).
    func errorsKeepTheirMeaning() async throws {
        let expected = [
            "slug router-item already exists in this organization",
            "a user with this email already exists in this organization",
            "domain globex.test already exists in this organization",
            "insufficient ECU balance: 0 available, 1000 requested",
            "insufficient ECU balance: 0 available, 7 requested",
            "invalid input: domain globex.test must be verified before auto-join is enabled",
        ]
        let pool = PostgresPool(configuration: coordinator.with(user: "tenantkit_app"), maxConnections: 2, taintedConnections: .close)
        let operators = PostgresPool(configuration: coordinator, maxConnections: 1)
        let onCluster = try await Self.mistakes(TenantStore(pool: pool, key: Self.key, transport: .setLocal), operators: operators)
        #expect(onCluster == expected)
        // The worker's error as the cluster relays it: SQLSTATE and message, no constraint.
        let gus = try await TenantStore(pool: pool, key: Self.key, transport: .setLocal).createUser(email: "gus@umbrella.test", emailVerified: true)
        let umbrella = try await TenantStore(pool: pool, key: Self.key, transport: .setLocal).createOrganization(named: "Umbrella", by: gus.id)
        let scope = TenantStore(pool: pool, key: Self.key, transport: .setLocal).scope(umbrella, as: .user(gus.id))
        _ = try await scope.query("INSERT INTO org_email_domains (org_id, domain) VALUES (\(umbrella), 'umbrella.test')")
        let raw = await #expect(throws: PostgresError.self) {
            _ = try await scope.query("INSERT INTO org_email_domains (org_id, domain) VALUES (\(umbrella), 'umbrella.test')")
        }
        #expect(raw?.code == .uniqueViolation && raw?.constraint != "org_email_domains_pkey", "\(raw?.detailedDescription ?? "")")
        print("CitusDistributionTests: a duplicate on a worker arrives as \(raw.map { "\($0): \($0.message)" } ?? "-")")
        await pool.close()
        await operators.close()

        let onOneServer = try await TestDatabase.with(template: .migrated) { db in
            let pool = db.makePool(user: "tenantkit_app", maxConnections: 2)
            let operators = db.makePool(maxConnections: 1)
            let outcomes = try await Self.mistakes(TenantStore(pool: pool, key: .forTesting), operators: operators)
            await pool.close()
            await operators.close()
            return outcomes
        }
        #expect(onOneServer == expected)
    }

    /// Each mistake's TenantError, as its description (or the other error that came instead).
    static func mistakes(_ store: TenantStore, operators: PostgresPool) async throws -> [String] {
        let hal = try await store.createUser(email: "hal@globex.test", emailVerified: true)
        let org = try await store.createOrganization(named: "Globex", by: hal.id)
        let active = ActiveOrg(scope: store.scope(org, as: .user(hal.id)))
        let item = try await active.catalog.create(kind: "model", slug: "router-item", name: "Router item")
        try await active.domains.register("globex.test")
        var outcomes: [String] = []
        func outcome(_ body: () async throws -> Void) async {
            do {
                try await body()
                outcomes.append("no error")
            } catch let error as TenantError {
                outcomes.append(error.description)
            } catch let error as PostgresError {
                outcomes.append("PostgresError \(error.code) \(error.message)")
            } catch {
                outcomes.append("\(error)")
            }
        }
        await outcome { _ = try await active.catalog.create(kind: "model", slug: "router-item", name: "Again") }
        await outcome { _ = try await store.createUser(email: "hal@globex.test") }
        await outcome { try await active.domains.register("globex.test") }
        await outcome { _ = try await active.runs.start(itemID: item.id, cost: 1000, idempotencyKey: "too-dear") }
        await outcome { _ = try await active.credits.debit(7, reason: "overdraft", idempotencyKey: "debit-1") }
        await outcome { try await active.domains.setAutoJoin("globex.test", enabled: true) }
        return outcomes
    }

    /// The leak harness, as application code runs it against its own database, against the
    /// distributed schema: two orgs seeded alike, every tenant table read, updated, moved, deleted
    /// and inserted across orgs, with the claim sent as SET LOCAL.
    func leakHarnessFindsNothing() async throws {
        var harness = LeakHarness(adminConfiguration: coordinator, appConfiguration: coordinator.with(user: "tenantkit_app"))
        let context = SignedTenantContext(key: Self.key, transport: .setLocal)
        harness.context = context
        let runs = RunsTable.table, items = CatalogItemsTable.table
        harness.probes = [
            LeakProbe("runs through OrgScope") { org, pool in
                try await OrgScope(orgID: org.id, actor: .user(org.userID), context: context, on: pool)
                    .fetchAll(Select.from(runs).columns(runs.orgID), as: UUID?.self)
            },
            LeakProbe("catalog through OrgScope") { org, pool in
                try await OrgScope(orgID: org.id, actor: .user(org.userID), context: context, on: pool)
                    .fetchAll(Select.from(items).columns(items.orgID), as: UUID?.self)
            },
            LeakProbe("catalog page") { org, pool in
                try await ActiveOrg(scope: OrgScope(orgID: org.id, actor: .user(org.userID), context: context, on: pool))
                    .catalog.page().items.map(\.orgID)
            },
        ]
        let report = try await harness.run()
        print("CitusDistributionTests: leak harness on the cluster: \(report)")
        #expect(report.leaks.isEmpty, "\(report.leaks)")
        #expect(report.tablesChecked.sorted() == [
            "api_keys", "audit_chain_heads", "audit_log", "catalog_items", "ecu_accounts", "ecu_ledger",
            "email_domain_claims", "invitations", "memberships", "org_email_domains", "organizations", "runs",
        ])
        #expect(report.uncovered.isEmpty, "\(report.uncovered)")
    }
}

/// Statements as the driver logs them at debug level: the SQL and its binds (printed redacted,
/// kept as the value).
final class CapturedStatements: Sendable {
    private let statements = Mutex<[PostgresQuery]>([])
    var all: [PostgresQuery] { statements.withLock { $0 } }

    struct Handler: LogHandler {
        let captured: CapturedStatements
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            guard event.message == "query", case .string(let sql)? = event.metadata?["sql"],
                  case .stringConvertible(let value)? = event.metadata?["binds"], let binds = value as? PostgresBindings else { return }
            captured.statements.withLock { $0.append(PostgresQuery(unsafeSQL: sql, binds: binds)) }
        }
    }
}

// MARK: Measurements (printed, never asserted)

extension CitusTestCluster {
    /// A scoped point read, a catalog page and a run start through the repositories, on one server
    /// (TestDatabase's PostgreSQL 15) and on this cluster, interleaved call by call in the same
    /// run; prints each one's median. Runs only with TENANTKIT_CITUS_MEASURE=<calls per operation>.
    func measureOneServerAgainstTheCluster() async throws {
        guard let text = ProcessInfo.processInfo.environment["TENANTKIT_CITUS_MEASURE"], let calls = Int(text), calls > 0 else {
            print("CitusDistributionTests: measurements did NOT run: set TENANTKIT_CITUS_MEASURE=<calls per operation> for them")
            return
        }
        try await TestDatabase.with(template: .migrated) { db in
            let single = try await Self.Target(name: "one server", store: TenantStore(pool: db.makePool(user: "tenantkit_app", maxConnections: 1), key: .forTesting),
                                              admin: db.configuration)
            let cluster = try await Self.Target(name: "cluster", store: TenantStore(
                pool: PostgresPool(configuration: coordinator.with(user: "tenantkit_app"), maxConnections: 1, taintedConnections: .close), key: Self.key, transport: .setLocal),
                admin: coordinator)
            let targets = [single, cluster]
            let operations: [(String, @Sendable (Target, Int) async throws -> Void)] = [
                ("point read (runs.run)", { target, _ in _ = try await target.org.runs.run(target.runID) }),
                ("catalog page (50 of 60 items)", { target, _ in _ = try await target.org.catalog.page(kind: "model") }),
                ("run start (debit + run + audit)", { target, call in
                    _ = try await target.org.runs.start(itemID: target.itemID, cost: 1, idempotencyKey: "bench-\(call)")
                }),
                ("private item write (catalog.create: item + audit)", { target, call in
                    _ = try await target.org.catalog.create(kind: "model", slug: "written-\(call + 10)", name: "Written \(call)")
                }),
            ]
            var lines: [String] = []
            for (name, operation) in operations {
                var samples: [String: [Duration]] = [:]
                for call in -10..<calls {  // 10 untimed calls first, to warm plans and caches
                    // Alternate which target goes first, so neither always follows the other.
                    for target in call % 2 == 0 ? targets : targets.reversed() {
                        let started = ContinuousClock.now
                        try await operation(target, call)
                        if call >= 0 { samples[target.name, default: []].append(ContinuousClock.now - started) }
                    }
                }
                func median(_ name: String) -> Double {
                    let sorted = samples[name]!.sorted()
                    let d = sorted[sorted.count / 2].components
                    return Double(d.seconds) * 1e6 + Double(d.attoseconds) / 1e12
                }
                let one = median(single.name), many = median(cluster.name)
                lines.append("\(name): one server \(Int(one)) us, cluster \(Int(many)) us (\(String(format: "%.2f", many / one))x), median of \(calls)")
            }
            lines.append(try await privateItemWritesDistributedAgainstReference(calls: calls))
            print("CitusDistributionTests: measured, interleaved:\n  " + lines.joined(separator: "\n  "))
            await single.store.pool.close()
            await cluster.store.pool.close()
        }
    }

    /// Inserts of private items into a table of `catalog_items`' shape laid out as it is now
    /// (distributed by `org_id`) and as it was before migration 0022 (a reference table, copied to
    /// every node), interleaved, one org per insert; the median of each.
    func privateItemWritesDistributedAgainstReference(calls: Int) async throws -> String {
        let layouts = ["tk_measure_reference": "create_reference_table('tk_measure_reference')",
                       "tk_measure_distributed": "create_distributed_table('tk_measure_distributed', 'org_id', colocate_with => 'none')"]
        return try await withConnection(coordinator) { c in
            for (table, distribute) in layouts.sorted(by: { $0.key < $1.key }) {
                try await c.executeScript(unsafeSQL: "DROP TABLE IF EXISTS \(table)")
                try await c.executeScript(unsafeSQL: """
                    CREATE TABLE \(table) (org_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), kind text NOT NULL,
                                           slug text NOT NULL, name text NOT NULL, metadata jsonb NOT NULL DEFAULT '{}',
                                           PRIMARY KEY (org_id, id), UNIQUE (org_id, slug))
                    """)
                try await c.executeScript(unsafeSQL: "SELECT \(distribute)")
            }
            var samples: [String: [Duration]] = [:]
            let tables = layouts.keys.sorted()
            for call in -10..<calls {
                let org = UUID()
                for table in call % 2 == 0 ? tables : tables.reversed() {
                    let started = ContinuousClock.now
                    try await c.execute("INSERT INTO \(identifier: table) (org_id, kind, slug, name) VALUES (\(org), 'model', \("item-\(call)"), 'Item')")
                    if call >= 0 { samples[table, default: []].append(ContinuousClock.now - started) }
                }
            }
            for table in tables { try await c.executeScript(unsafeSQL: "DROP TABLE \(table)") }
            func median(_ table: String) -> Double {
                let d = samples[table]!.sorted()[calls / 2].components
                return Double(d.seconds) * 1e6 + Double(d.attoseconds) / 1e12
            }
            let reference = median("tk_measure_reference"), distributed = median("tk_measure_distributed")
            return "private item insert: distributed by org_id \(Int(distributed)) us, reference table \(Int(reference)) us "
                + "(\(String(format: "%.2f", reference / distributed))x the time), median of \(calls)"
        }
    }

    /// One side of the comparison: an org with 60 public model items, 1,000,000 ECU and one run.
    struct Target: Sendable {
        let name: String
        let store: TenantStore
        let org: ActiveOrg
        let itemID: UUID
        let runID: UUID

        init(name: String, store: TenantStore, admin: PostgresConfiguration) async throws {
            self.name = name
            self.store = store
            let user = try await store.createUser(email: "bench-\(UUID().uuidString.prefix(8).lowercased())@bench.test", emailVerified: true)
            let orgID = try await store.createOrganization(named: "Bench", by: user.id)
            org = ActiveOrg(scope: store.scope(orgID, as: .user(user.id)))
            let operators = PostgresPool(configuration: admin, maxConnections: 1)
            _ = try await store.platformOperator(UUID(), in: orgID, on: operators).credits.grant(1_000_000, reason: "bench", idempotencyKey: "bench")
            await operators.close()
            try await withConnection(admin) { connection in
                _ = try await connection.execute("""
                    INSERT INTO public_catalog_items (kind, slug, name)
                    SELECT 'model', 'bench-' || i, 'Bench item ' || i FROM generate_series(1, 60) i
                    ON CONFLICT DO NOTHING
                    """)
            }
            itemID = try await org.catalog.create(kind: "model", slug: "bench-private", name: "Bench private").id
            runID = try await org.runs.start(itemID: itemID, cost: 1, idempotencyKey: "bench-first").id
        }
    }
}

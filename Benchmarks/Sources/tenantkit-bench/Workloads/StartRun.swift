import Foundation
import TenantKitPostgres
import TenantKit
import TenantSQL

/// Workload 4 at the SQL level (the runs repository does not exist yet): start a run = insert the run
/// row, debit the org's ECU account (ledger insert; its trigger updates the balance) and append an
/// audit entry (its trigger extends the org's hash chain), in one transaction. TenantKit sends the
/// three builder INSERTs through OrgScope in one pipeline; pgbench runs the same statements in one
/// pipeline with `-M prepared`.
struct StartRunWorkload: Workload {
    let number = 4
    let title = "Start a run (run row + ECU debit + audit entry, one transaction), SQL level"
    let defaultOpsPerRound = 2_000
    let concurrency: Int
    static let sequential = "TenantKit OrgScope pipeline, 1 connection"
    static let pgbenchSequential = "pgbench, same statements, 1 client"
    var concurrent: String { "TenantKit OrgScope pipeline, pool, \(concurrency) tasks" }
    var pgbenchConcurrent: String { "pgbench, same statements, \(concurrency) clients" }

    var targets: [Target] {
        [Target(label: "sequential >= 0.7x pgbench", contender: Self.sequential, baseline: Self.pgbenchSequential, minRatio: 0.7),
         Target(label: "\(concurrency) concurrent >= 0.7x pgbench", contender: concurrent, baseline: pgbenchConcurrent, minRatio: 0.7)]
    }

    static func statements(org: UUID, runNumber: Int) -> [any Statement] {
        let runs = RunsTable.table, ledger = CreditLedgerTable.table, audit = AuditLogTable.table
        let runID = BenchIDs.uuid("00000002", runNumber)
        let runText = runID.uuidString.lowercased()
        return [
            Insert.into(runs).values(runs.id.set(runID), runs.catalogItemID.set(BenchIDs.publicItem), runs.cost.set(1), runs.status.set("queued")),
            Insert.into(ledger).values(ledger.amount.set(-1), ledger.reason.set("run"), ledger.idempotencyKey.set(runText), ledger.runID.set(runID)),
            Insert.into(audit).values(audit.action.set("run.start"), audit.target.set(runText)),
        ]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.large()
        var contenders: [any Contender] = [
            try await TenantKitStartRun(name: Self.sequential, db: db, tasks: 1, context: env.signed),
            try await TenantKitStartRun(name: concurrent, db: db, tasks: concurrency, context: env.signed),
        ]
        if !env.options.skipPgbench {
            let script = try await pgbenchScript(db, env: env)
            for (name, clients) in [(Self.pgbenchSequential, 1), (pgbenchConcurrent, concurrency)] {
                contenders.append(try PgBenchContender(name: name, script: script, configuration: db.app, clients: clients, env: env) { round in
                    ["n": "0", "base": String(round * 100_000_000 + (clients == 1 ? 0 : 50_000_000))]
                })
            }
        }
        return contenders
    }

    /// The rendered builder SQL with each `$n` replaced by the pgbench expression for that column.
    private func pgbenchScript(_ db: BenchDatabase, env: BenchEnvironment) async throws -> String {
        let org = "('\(BenchIDs.orgPrefix)-0000-4000-8000-' || lpad(:o, 12, '0'))"
        let run = "('00000007-0000-4000-8000-' || lpad(:rn, 12, '0'))"
        let expressions: [String: String] = [
            "org_id": "\(org)::uuid", "id": "\(run)::uuid", "catalog_item_id": "'\(BenchIDs.publicItem.uuidString.lowercased())'::uuid",
            "cost": "1", "status": "'queued'", "amount": "-1", "reason": "'run'", "idempotency_key": run, "run_id": "\(run)::uuid",
            "action": "'run.start'", "target": run,
        ]
        let connection = try await PostgresConnection.connect(db.app)
        defer { Task { await connection.close() } }
        let scope = OrgScope(orgID: BenchIDs.org(1), actor: .user(BenchIDs.user), context: env.signed, on: connection)
        var lines = [
            "\\set o random(1, \(db.orgs))",
            "\\set n :n + 1",
            "\\set rn :base + :client_id * 1000000 + :n",
            "\\startpipeline",
            pgbenchSignedContext(org: org) + ";",
        ]
        for statement in Self.statements(org: BenchIDs.org(1), runNumber: 1) {
            let sql = try scope.render(statement).sql
            // INSERT INTO "t" ("a", "b") VALUES ($1, $2): map each column to its expression.
            guard let open = sql.firstIndex(of: "("), let close = sql.firstIndex(of: ")") else { throw BenchError("unexpected INSERT: \(sql)") }
            let columns = sql[sql.index(after: open)..<close].split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard sql.hasSuffix("VALUES (" + (1...columns.count).map { "$\($0)" }.joined(separator: ", ") + ")") else {
                throw BenchError("unexpected INSERT shape: \(sql)")
            }
            lines.append(pgbenchSQL(sql, try columns.map { column in
                guard let e = expressions[column] else { throw BenchError("no pgbench value for \(column)") }
                return e
            }) + ";")
        }
        lines.append("\\endpipeline")
        return lines.joined(separator: "\n") + "\n"
    }
}

final class TenantKitStartRun: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = true
    let note: String?
    private let pool: PostgresPool
    private let tasks: Int
    private let orgs: Int
    private let context: SignedTenantContext
    private var counter = 0
    private var random = SeededRandom(seed: 3)

    init(name: String, db: BenchDatabase, tasks: Int, context: SignedTenantContext) async throws {
        self.name = name
        self.tasks = tasks
        self.context = context
        orgs = db.orgs
        pool = PostgresPool(configuration: db.app, maxConnections: tasks)
        note = "OrgScope(on: pool).pipeline([Insert runs, Insert ecu_ledger, Insert audit_log]) as \(appRole), random org of \(db.orgs)"
    }

    func runRound(ops: Int) async throws -> RoundSample {
        // Run numbers unique across rounds and contenders (tasks > 1 use another range).
        let base = counter + (tasks == 1 ? 0 : 500_000_000)
        counter += ops
        let orgs = (0..<ops).map { _ in Int.random(in: 1...self.orgs, using: &random) }
        let pool = self.pool, tasks = self.tasks, context = self.context
        let start: @Sendable (Int) async throws -> Void = { i in
            let scope = OrgScope(orgID: BenchIDs.org(orgs[i]), actor: .user(BenchIDs.user), context: context, on: pool)
            _ = try await scope.pipeline(StartRunWorkload.statements(org: scope.orgID, runNumber: base + i + 1))
        }
        if tasks == 1 { return try await RoundSample.sequential(ops: ops) { i in try await start(i) } }
        return try await RoundSample.concurrent(ops: ops, tasks: tasks) { task, i in try await start(task * (ops / tasks) + i) }
    }

    func tearDown() async { await pool.close() }
}

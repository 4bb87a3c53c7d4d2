import BenchLibPQ
import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL

/// A run as the point read returns it.
struct RunSummary: Decodable, Sendable {
    let id: UUID
    let status: String
    let cost: Int64
    let createdAt: Date
}

/// The builder statement of workloads 1 and 2.
func runByIDStatement(_ id: UUID) -> Select {
    let runs = RunsTable.table
    return Select.from(runs).columns(runs.id, runs.status, runs.cost, runs.createdAt).where(runs.id == id)
}

/// Workload 1: point read by id, one connection, sequential.
struct PointReadWorkload: Workload {
    let number = 1
    let title = "Point read by id (runs), one connection, sequential"
    let defaultOpsPerRound = 5_000
    static let scoped = "TenantKit OrgScope, signed context (RLS on)"
    static let scopedOnLoop = "TenantKit OrgScope, signed context (RLS on), task on the connection's event loop"
    static let plain = "TenantKit OrgScope, plain setting (RLS on, bench role)"
    static let unscoped = "TenantKit unscoped (RLS off)"
    static let raw = "raw libpq (unscoped)"
    static let rawScoped = "raw libpq, same pipeline as OrgScope (RLS on)"
    static let nio = "postgres-nio query (unscoped)"
    static let nioPrepared = "postgres-nio prepared (unscoped)"

    var targets: [Target] {
        [Target(label: "signed context >= 0.9x plain setting", contender: Self.scoped, baseline: Self.plain, minRatio: 0.9),
         Target(label: "scoped >= 0.8x raw libpq unscoped", contender: Self.scoped, baseline: Self.raw, minRatio: 0.8),
         Target(label: "scoped >= 2.5x postgres-nio", contender: Self.scoped, baseline: Self.nio, minRatio: 2.5),
         Target(label: "scoped >= 2x postgres-nio prepared", contender: Self.scoped, baseline: Self.nioPrepared, minRatio: 2),
         Target(label: "scoped, task on the loop >= 0.85x raw libpq, same pipeline", contender: Self.scopedOnLoop, baseline: Self.rawScoped, minRatio: 0.85)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.large()
        let keys = RunKeys(db)
        var contenders: [any Contender] = [
            try await TenantKitPointRead(name: Self.scoped, mode: .signed, db: db, keys: keys, env: env),
            try await TenantKitPointRead(name: Self.scopedOnLoop, mode: .signed, db: db, keys: keys, env: env, onLoop: true),
            try await TenantKitPointRead(name: Self.plain, mode: .plain, db: db, keys: keys, env: env),
            try await TenantKitPointRead(name: Self.unscoped, mode: .unscoped, db: db, keys: keys, env: env),
            try RawPointRead(name: Self.raw, scoped: false, db: db, keys: keys, env: env),
            try RawPointRead(name: Self.rawScoped, scoped: true, db: db, keys: keys, env: env),
        ]
        if !env.options.skipNIO {
            contenders.append(NIOPointRead(name: Self.nio, prepared: false, db: db, keys: keys, tasks: 1))
            contenders.append(NIOPointRead(name: Self.nioPrepared, prepared: true, db: db, keys: keys, tasks: 1))
        }
        return contenders
    }

    /// What the driver's former design cost before any I/O: a DispatchQueue hop and a continuation
    /// resume, the two thread hand-offs per call it paid before the event loop.
    func extras(_ env: BenchEnvironment) async throws -> [String: Double] {
        let queue = DispatchQueue(label: "bench.hop")
        let sample = await RoundSample.sequential(ops: 20_000) { _ in
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                queue.async { continuation.resume() }
            }
        }
        let result = ContenderResult(name: "hop", isTenantKit: false, unitsPerOp: 1, note: nil, samples: [sample])
        // The client's share of the signed context: making one claim (HMAC-SHA256 in Swift) and its statement.
        let signed = env.signed
        let signing = try await RoundSample.sequential(ops: 20_000) { i in
            let statement = try signed.statement(orgID: BenchIDs.org(i % 1_000 + 1), actor: .user(BenchIDs.user), backendPID: 4242)
            if statement.binds.count != 1 { throw BenchError("unexpected context statement") }
        }
        let signingResult = ContenderResult(name: "sign", isTenantKit: true, unitsPerOp: 1, note: nil, samples: [signing])
        return ["queue hop + continuation resume, median us (no I/O)": result.medianMicros,
                "queue hop + continuation resume, p99 us (no I/O)": result.p99Micros,
                "signing one claim (SignedTenantContext.statement), median us (no I/O)": signingResult.medianMicros,
                "signing one claim, allocations": signingResult.allocationsPerOp ?? .nan]
    }
}

/// Workload 2: the same read from 8 concurrent tasks on a pool.
struct ConcurrentPointReadWorkload: Workload {
    let number = 2
    let title = "Point read by id, concurrent tasks on a pool"
    let defaultOpsPerRound = 20_000
    static let scoped = "TenantKit OrgScope on pool (RLS on)"
    static let unscoped = "TenantKit unscoped on pool (RLS off)"
    static let pgbenchScoped = "pgbench, same pipeline as OrgScope (RLS on)"
    static let pgbench = "pgbench SELECT only (unscoped)"
    static let nio = "postgres-nio query (unscoped)"
    static let nioPrepared = "postgres-nio prepared (unscoped)"

    var targets: [Target] {
        [Target(label: "scoped >= 0.8x pgbench, same pipeline", contender: Self.scoped, baseline: Self.pgbenchScoped, minRatio: 0.8),
         Target(label: "scoped >= 2.5x postgres-nio", contender: Self.scoped, baseline: Self.nio, minRatio: 2.5),
         Target(label: "scoped >= 2x postgres-nio prepared", contender: Self.scoped, baseline: Self.nioPrepared, minRatio: 2)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.large()
        let keys = RunKeys(db)
        let tasks = env.options.concurrency
        var contenders: [any Contender] = [
            TenantKitPoolPointRead(name: Self.scoped, scoped: true, db: db, keys: keys, tasks: tasks, context: env.signed),
            TenantKitPoolPointRead(name: Self.unscoped, scoped: false, db: db, keys: keys, tasks: tasks, context: env.signed),
        ]
        if !env.options.skipPgbench {
            let org = "('\(BenchIDs.orgPrefix)-0000-4000-8000-' || lpad(:o, 12, '0'))"
            let run = "('\(BenchIDs.runPrefix)-0000-4000-8000-' || lpad(:r, 12, '0'))::uuid"
            let header = "\\set r random(1, \(db.runCount))\n\\set o (:r - 1) % \(db.orgs) + 1\n"
            let select = pgbenchSQL(SQLText.runByID, ["\(org)::uuid", run])
            let context = pgbenchSignedContext(org: org)
            contenders.append(try PgBenchContender(
                name: Self.pgbenchScoped,
                script: header + "\\startpipeline\n\(context);\n\(select);\n\\endpipeline\n",
                configuration: db.app, clients: tasks, env: env))
            contenders.append(try PgBenchContender(
                name: Self.pgbench, script: header + "\(select);\n", configuration: db.bypass, clients: tasks, env: env))
        }
        if !env.options.skipNIO {
            contenders.append(NIOPointRead(name: Self.nio, prepared: false, db: db, keys: keys, tasks: tasks))
            contenders.append(NIOPointRead(name: Self.nioPrepared, prepared: true, db: db, keys: keys, tasks: tasks))
        }
        return contenders
    }
}

/// The pgbench expression for the context statement OrgScope sends (SQLText.signedContext) for the
/// benchmark user in `org` (a text expression): pgbench cannot compute an HMAC, so the claim is
/// signed on the server, in the same statement (see `BenchEnvironment.signingSQL`).
func pgbenchSignedContext(org: String) -> String {
    pgbenchSQL(SQLText.signedContext, [
        "\(benchSchema).sign_user_claim(\(org)::uuid, '\(BenchIDs.user.uuidString.lowercased())'::uuid)"])
}

/// The three ways a TenantKit contender reaches a tenant table.
enum ScopeMode: Sendable {
    /// OrgScope with TenantKit's `SignedTenantContext`, as tenantkit_app: what an application runs.
    case signed
    /// OrgScope with `PlainSettingContext` (the context of before issue 10), as the benchmark-only
    /// role whose policies trust `tenantkit.org_id`: the cost of the signed context is the difference.
    case plain
    /// The same rendered statement as the BYPASSRLS role, without any context.
    case unscoped

    func configuration(_ db: BenchDatabase) -> PostgresConfiguration {
        switch self {
        case .signed: db.app
        case .plain: db.plain
        case .unscoped: db.bypass
        }
    }

    func context(_ env: BenchEnvironment) -> any TenantContext {
        switch self {
        case .signed, .unscoped: env.signed
        case .plain: PlainSettingContext()
        }
    }

    var role: String {
        switch self {
        case .signed: appRole
        case .plain: plainRole
        case .unscoped: bypassRole
        }
    }

    var contextName: String {
        switch self {
        case .signed: "SignedTenantContext (claim HMAC-signed per statement, verified by tenantkit.current_org())"
        case .plain: "PlainSettingContext (three plain set_config, policies TO \(plainRole) on current_setting)"
        case .unscoped: "no context"
        }
    }
}

/// Checks that the context statements the baselines send are the ones OrgScope sends.
func checkContextStatements(_ env: BenchEnvironment) throws {
    let user = OrgScope.Actor.user(BenchIDs.user)
    let signed = try env.signed.statement(orgID: BenchIDs.org(1), actor: user, backendPID: 1).sql
    guard signed == SQLText.signedContext else { throw BenchError("SignedTenantContext's statement changed: \(signed)") }
    let plain = try PlainSettingContext().statement(orgID: BenchIDs.org(1), actor: user, backendPID: 1).sql
    guard plain == SQLText.plainContext else { throw BenchError("PlainSettingContext's statement changed: \(plain)") }
}

/// TenantKit on one connection: through OrgScope (one pipeline: context + SELECT) with the signed
/// context as tenantkit_app or the plain setting as the benchmark's plain role, or unscoped: the
/// same rendered SELECT as the BYPASSRLS role, without the context.
final class TenantKitPointRead: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = true
    let note: String?
    private let mode: ScopeMode
    private let context: any TenantContext
    private let connection: PostgresConnection
    private let keys: RunKeys
    /// The calling task prefers the connection's event loop as its executor: no thread hand-off per read.
    private let onLoop: Bool
    private var offset = 0

    init(name: String, mode: ScopeMode, db: BenchDatabase, keys: RunKeys, env: BenchEnvironment, onLoop: Bool = false) async throws {
        self.name = name
        self.mode = mode
        self.onLoop = onLoop
        self.keys = keys
        context = mode.context(env)
        connection = try await PostgresConnection.connect(mode.configuration(db))
        note = mode == .unscoped
            ? "connection.fetchOne(rendered Select) as \(bypassRole) (BYPASSRLS), no context"
            : "OrgScope(on: connection).fetchOne(Select...) as \(mode.role), \(mode.contextName): context + SELECT in one pipeline, implicit transaction"
                + (onLoop ? "; the measuring task runs under withTaskExecutorPreference(connection.eventLoop)" : "")
        // The baselines use SQLText.runByID: make sure it is what the builder sends.
        let rendered = try OrgScope(orgID: keys.orgs[0], actor: .user(BenchIDs.user), context: context, on: connection)
            .render(runByIDStatement(keys.runs[0]))
        guard rendered.sql == SQLText.runByID else { throw BenchError("builder SQL changed: \(rendered.sql)") }
        try checkContextStatements(env)
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        guard !onLoop else {
            return try await withTaskExecutorPreference(connection.eventLoop) { try await reads(ops: ops, from: start) }
        }
        return try await reads(ops: ops, from: start)
    }

    private func reads(ops: Int, from start: Int) async throws -> RoundSample {
        try await RoundSample.sequential(ops: ops) { i in
            let k = (start + i) % keys.count
            let scope = OrgScope(orgID: keys.orgs[k], actor: .user(BenchIDs.user), context: context, on: connection)
            let run: RunSummary
            if mode == .unscoped {
                run = try await connection.fetchOne(try scope.render(runByIDStatement(keys.runs[k])), as: RunSummary.self)
            } else {
                run = try await scope.fetchOne(runByIDStatement(keys.runs[k]), as: RunSummary.self)
            }
            if run.id != keys.runs[k] { throw BenchError("wrong row") }
        }
    }

    func tearDown() async { await connection.close() }
}

/// TenantKit on a pool, `tasks` concurrent tasks.
final class TenantKitPoolPointRead: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = true
    let note: String?
    private let scoped: Bool
    private let pool: PostgresPool
    private let keys: RunKeys
    private let tasks: Int
    private let context: SignedTenantContext
    private var offset = 0

    init(name: String, scoped: Bool, db: BenchDatabase, keys: RunKeys, tasks: Int, context: SignedTenantContext) {
        self.name = name
        self.scoped = scoped
        self.keys = keys
        self.tasks = tasks
        self.context = context
        pool = PostgresPool(configuration: scoped ? db.app : db.bypass, maxConnections: tasks)
        note = "PostgresPool(maxConnections: \(tasks)), \(tasks) tasks; " + (scoped ? "OrgScope(on: pool) as \(appRole)" : "pool.fetchOne(rendered Select) as \(bypassRole)")
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        let keys = self.keys, pool = self.pool, scoped = self.scoped, tasks = self.tasks, context = self.context
        return try await RoundSample.concurrent(ops: ops, tasks: tasks) { task, i in
            let k = (start + task * (ops / tasks) + i) % keys.count
            let scope = OrgScope(orgID: keys.orgs[k], actor: .user(BenchIDs.user), context: context, on: pool)
            let run: RunSummary
            if scoped {
                run = try await scope.fetchOne(runByIDStatement(keys.runs[k]), as: RunSummary.self)
            } else {
                run = try await pool.fetchOne(try scope.render(runByIDStatement(keys.runs[k])), as: RunSummary.self)
            }
            if run.id != keys.runs[k] { throw BenchError("wrong row") }
        }
    }

    func tearDown() async { await pool.close() }
}

/// Raw libpq: the prepared SELECT (unscoped, BYPASSRLS role), or the same two-statement pipeline
/// OrgScope sends (tenantkit_app, RLS on).
final class RawPointRead: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let note: String?
    private let scoped: Bool
    private let connection: RawConnection
    private let keys: RunKeys
    private let signer: ClaimSigner
    private let backendPID: Int32
    private var offset = 0

    init(name: String, scoped: Bool, db: BenchDatabase, keys: RunKeys, env: BenchEnvironment) throws {
        self.name = name
        self.scoped = scoped
        self.keys = keys
        signer = ClaimSigner(env.key)
        connection = try RawConnection((scoped ? db.app : db.bypass).parameters)
        backendPID = PQbackendPID(connection.pg)
        try connection.prepare("run_by_id", SQLText.runByID)
        try connection.prepare("context", SQLText.signedContext)
        note = scoped
            ? "PQsendQueryPrepared x2 in pipeline mode + PQpipelineSync, binary, as \(appRole); the claim signed in Swift per read as SignedTenantContext does"
            : "PQexecPrepared, binary params and results"
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        let keys = self.keys, connection = self.connection, scoped = self.scoped, signer = self.signer, backendPID = self.backendPID
        return try await RoundSample.sequentialBlocking(ops: ops) { i in
            let k = (start + i) % keys.count
            let read: (OpaquePointer) throws -> Void = { result in
                guard PQntuples(result) == 1 else { throw BenchError("raw: run not found") }
                let run = RunSummary(
                    id: RawDecode.uuid(RawDecode.cell(result, 0, 0)!), status: RawDecode.text(RawDecode.cell(result, 0, 1)!),
                    cost: RawDecode.int64(RawDecode.cell(result, 0, 2)!), createdAt: RawDecode.date(RawDecode.cell(result, 0, 3)!))
                if run.id != keys.runs[k] { throw BenchError("wrong row") }
            }
            try withUUIDBytes(keys.orgs[k]) { org in
                try withUUIDBytes(keys.runs[k]) { run in
                    if scoped {
                        // The claim goes as text, like OrgScope's context statement.
                        var claim = signer.userClaim(org: keys.orgs[k], user: BenchIDs.user, backendPID: backendPID)
                        try claim.withUTF8 { claimBytes in
                            try connection.pipeline(
                                [("context", [UnsafeRawBufferPointer(claimBytes)]), ("run_by_id", [org, run])], read)
                        }
                    } else {
                        try connection.execPrepared("run_by_id", [org, run], read)
                    }
                }
            }
        }
    }

    func tearDown() async {}
}

/// postgres-nio's PostgresClient, unscoped (BYPASSRLS role): `query` or a prepared statement.
final class NIOPointRead: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let note: String?
    private let client: NIOClient
    private let prepared: Bool
    private let keys: RunKeys
    private let tasks: Int
    private var offset = 0

    init(name: String, prepared: Bool, db: BenchDatabase, keys: RunKeys, tasks: Int) {
        self.name = name
        self.prepared = prepared
        self.keys = keys
        self.tasks = tasks
        client = NIOClient(parameters: db.bypass.parameters, maxConnections: tasks)
        note = "PostgresClient (postgres-nio 1.33.2), maximumConnections \(tasks), " + (prepared ? "execute(PostgresPreparedStatement)" : "query(_:)") + ", as \(bypassRole)"
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        let keys = self.keys, client = self.client, prepared = self.prepared
        let read: @Sendable (Int) async throws -> Void = { k in
            if prepared {
                try await client.runByIDPrepared(org: keys.orgs[k], id: keys.runs[k])
            } else {
                try await client.runByID(org: keys.orgs[k], id: keys.runs[k])
            }
        }
        if tasks == 1 {
            return try await RoundSample.sequential(ops: ops) { i in try await read((start + i) % keys.count) }
        }
        let tasks = self.tasks
        return try await RoundSample.concurrent(ops: ops, tasks: tasks) { task, i in
            try await read((start + task * (ops / tasks) + i) % keys.count)
        }
    }

    func tearDown() async { await client.shutdown() }
}

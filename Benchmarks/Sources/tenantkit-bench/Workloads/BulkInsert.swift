import Foundation
import TenantKitPostgres
import TenantKit
import TenantSQL

/// Workload 5: insert N private catalog items into one org. One operation inserts all N rows; the rows
/// are deleted after each operation (untimed) so every operation starts from the same table.
struct BulkInsertWorkload: Workload {
    let number = 5
    let title = "Insert catalog items (one operation = all rows)"
    let defaultOpsPerRound = 1
    let rows: Int
    static let pipelined = "TenantKit pipelined (1,000 INSERTs per pipeline)"
    static let oneByOne = "TenantKit one by one"
    static let multiRow = "TenantKit multi-row INSERT (1,000 rows per statement)"
    static let copy = "raw libpq COPY FROM STDIN (RLS off)"

    var targets: [Target] {
        [Target(label: "pipelined >= 5x one by one", contender: Self.pipelined, baseline: Self.oneByOne, minRatio: 5)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.large()
        return [
            try await TenantKitInsert(name: Self.pipelined, mode: .pipelined, db: db, rows: rows, context: env.signed),
            try await TenantKitInsert(name: Self.oneByOne, mode: .oneByOne, db: db, rows: rows, context: env.signed),
            try await TenantKitInsert(name: Self.multiRow, mode: .multiRow, db: db, rows: rows, context: env.signed),
            try await CopyInsert(name: Self.copy, db: db, rows: rows),
        ]
    }
}

/// Deletes the writer org's private items (superuser, untimed). Foreign-key triggers are skipped:
/// nothing references these rows, and `runs.catalog_item_id` has no index of its own, so each
/// deleted item's RI check would scan all of `runs`.
private func clearWriterOrg(_ admin: PostgresConnection, _ db: BenchDatabase) async throws {
    try await admin.executeScript(unsafeSQL: """
        SET session_replication_role = replica;
        DELETE FROM catalog_items WHERE org_id = '\(BenchIDs.org(db.writerOrg).uuidString.lowercased())';
        SET session_replication_role = DEFAULT;
        """)
}

final class TenantKitInsert: Contender, @unchecked Sendable {
    enum Mode { case pipelined, oneByOne, multiRow }
    let name: String
    let isTenantKit = true
    let unitsPerOp: Int
    let note: String?
    private let mode: Mode
    private let connection: PostgresConnection
    private let admin: PostgresConnection
    private let db: BenchDatabase
    private let context: SignedTenantContext
    private var round = 0

    init(name: String, mode: Mode, db: BenchDatabase, rows: Int, context: SignedTenantContext) async throws {
        self.name = name
        self.mode = mode
        self.db = db
        self.context = context
        unitsPerOp = rows
        connection = try await PostgresConnection.connect(db.app)
        admin = try await PostgresConnection.connect(db.superuser)
        note = switch mode {
        case .pipelined: "OrgScope.pipeline([Insert] x 1,000) per round trip, each pipeline one transaction, as \(appRole)"
        case .oneByOne: "OrgScope.execute(Insert) per row: one round trip and one transaction each, as \(appRole)"
        case .multiRow: "OrgScope.execute(Insert.rows(1,000 rows)) per statement, as \(appRole)"
        }
    }

    func runRound(ops: Int) async throws -> RoundSample {
        var sample = RoundSample()
        sample.allocations = 0
        let items = CatalogItemsTable.table
        let scope = OrgScope(orgID: BenchIDs.org(db.writerOrg), actor: .user(BenchIDs.user), context: context, on: connection)
        for _ in 0..<ops {
            round += 1
            let prefix = "w5-\(round)-"
            let allocationsBefore = allocationsSoFar()
            let t0 = now()
            switch mode {
            case .oneByOne:
                for i in 0..<unitsPerOp {
                    try await scope.execute(Insert.into(items).values(
                        items.kind.set("model"), items.slug.set(prefix + String(i)), items.name.set("Item \(i)")))
                }
            case .pipelined:
                var i = 0
                while i < unitsPerOp {
                    let end = min(i + 1_000, unitsPerOp)
                    let batch: [any Statement] = (i..<end).map { j in
                        Insert.into(items).values(items.kind.set("model"), items.slug.set(prefix + String(j)), items.name.set("Item \(j)"))
                    }
                    _ = try await scope.pipeline(batch)
                    i = end
                }
            case .multiRow:
                var i = 0
                while i < unitsPerOp {
                    let end = min(i + 1_000, unitsPerOp)
                    let rows: [[any InsertValue]] = (i..<end).map { j in
                        [items.kind.set("model"), items.slug.set(prefix + String(j)), items.name.set("Item \(j)")]
                    }
                    try await scope.execute(Insert.into(items).rows(rows))
                    i = end
                }
            }
            let elapsed = now() - t0
            sample.allocations! += allocationsSoFar() - allocationsBefore
            sample.latencies.append(elapsed)
            sample.wallNanos += elapsed
            sample.ops += 1
            try await clearWriterOrg(admin, db)
        }
        return sample
    }

    func tearDown() async {
        await connection.close()
        await admin.close()
    }
}

/// COPY FROM STDIN through raw libpq. COPY FROM is refused on tables with row-level security unless
/// the role bypasses it, so this baseline runs as the BYPASSRLS role and writes org_id itself.
final class CopyInsert: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let unitsPerOp: Int
    let note: String? = "COPY catalog_items (org_id, kind, slug, name) FROM STDIN (text format, 256 KiB chunks) as \(bypassRole); RLS forbids COPY FROM for tenantkit_app"
    private let connection: RawConnection
    private let admin: PostgresConnection
    private let db: BenchDatabase
    private var round = 0

    init(name: String, db: BenchDatabase, rows: Int) async throws {
        self.name = name
        self.db = db
        unitsPerOp = rows
        connection = try RawConnection(db.bypass.parameters)
        admin = try await PostgresConnection.connect(db.superuser)
    }

    func runRound(ops: Int) async throws -> RoundSample {
        var sample = RoundSample()
        sample.allocations = 0
        let org = BenchIDs.org(db.writerOrg).uuidString.lowercased()
        for _ in 0..<ops {
            round += 1
            let prefix = "w5c-\(round)-"
            let connection = self.connection, rows = unitsPerOp
            let allocationsBefore = allocationsSoFar()
            let elapsed = try await onThread {
                let t0 = now()
                // Building the text is part of the work, as rendering statements is for TenantKit.
                var data: [UInt8] = []
                data.reserveCapacity(rows * 64)
                for i in 0..<rows { data += Array("\(org)\tmodel\t\(prefix)\(i)\tItem \(i)\n".utf8) }
                try connection.copyIn("COPY catalog_items (org_id, kind, slug, name) FROM STDIN", data: data)
                return now() - t0
            }
            sample.allocations! += allocationsSoFar() - allocationsBefore
            sample.latencies.append(elapsed)
            sample.wallNanos += elapsed
            sample.ops += 1
            try await clearWriterOrg(admin, db)
        }
        return sample
    }

    func tearDown() async { await admin.close() }
}

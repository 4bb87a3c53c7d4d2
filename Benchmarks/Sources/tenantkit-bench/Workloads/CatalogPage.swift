import BenchLibPQ
import Foundation
import TenantKitPostgres
import TenantKit
import TenantSQL

/// One catalog row of a page.
struct CatalogRow: Decodable, Sendable {
    let id: UUID
    let kind: String
    let slug: String
    let name: String
    let createdAt: Date
}

/// The page query: public plus the org's private items after a slug cursor, 50 at a time, each
/// half an ordered index scan (a scoped page of a mixed catalog renders so, as in `CatalogRepository.page`).
func catalogPageStatement(after cursor: String) -> Select {
    let items = CatalogItemsTable.table
    return Select.from(items)
        .columns(items.id, items.kind, items.slug, items.name, items.createdAt)
        .where(items.slug > cursor)
        .orderBy(items.slug)
        .limit(50)
}

/// Page requests: a random org and a random slug cursor each, fixed by the seed.
struct PageKeys: Sendable {
    let orgs: [UUID]
    let cursors: [String]
    init(orgCount: Int, count: Int = 10_000, seed: UInt64 = 11) {
        var random = SeededRandom(seed: seed)
        var orgs: [UUID] = [], cursors: [String] = []
        for _ in 0..<count {
            orgs.append(BenchIDs.org(Int.random(in: 1...orgCount, using: &random)))
            // Slugs start with 8 hex digits; stop short of the end so most pages are full.
            let start = UInt32.random(in: 0..<0xF000_0000, using: &random)
            let hex = String(start, radix: 16)
            cursors.append(String(repeating: "0", count: 8 - hex.count) + hex)
        }
        self.orgs = orgs
        self.cursors = cursors
    }
}

/// Workload 3: a catalog page (public + private, keyset, 50 rows), RLS on vs off, many vs few orgs.
struct CatalogPageWorkload: Workload {
    let number = 3
    let title = "Catalog page: public + private items, keyset, 50 rows"
    let defaultOpsPerRound = 2_000
    static let scopedLarge = "TenantKit OrgScope, RLS on, large"
    static let plainLarge = "TenantKit OrgScope, plain setting, large"
    static let unscopedLarge = "TenantKit unscoped, RLS off, large"
    static let scopedSmall = "TenantKit OrgScope, RLS on, small"
    static let rawLarge = "raw libpq (unscoped), large"

    var targets: [Target] {
        [Target(label: "RLS on >= 0.95x RLS off", contender: Self.scopedLarge, baseline: Self.unscopedLarge, minRatio: 0.95),
         Target(label: "10,000 orgs >= 0.9x 100 orgs", contender: Self.scopedLarge, baseline: Self.scopedSmall, minRatio: 0.9),
         Target(label: "signed context within 5% of plain setting", contender: Self.scopedLarge, baseline: Self.plainLarge, minRatio: 0.95)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let large = try await env.large()
        let small = try await env.small()
        return [
            try await TenantKitCatalogPage(name: Self.scopedLarge, mode: .signed, db: large, env: env),
            try await TenantKitCatalogPage(name: Self.plainLarge, mode: .plain, db: large, env: env),
            try await TenantKitCatalogPage(name: Self.unscopedLarge, mode: .unscoped, db: large, env: env),
            try await TenantKitCatalogPage(name: Self.scopedSmall, mode: .signed, db: small, env: env),
            try await RawCatalogPage(name: Self.rawLarge, db: large, env: env),
        ]
    }

    func extras(_ env: BenchEnvironment) async throws -> [String: Double] {
        var extras: [String: Double] = [:]
        for db in [try await env.large(), try await env.small()] {
            extras["\(db.name) orgs"] = Double(db.orgs)
            extras["\(db.name) catalog items"] = Double(db.orgs * db.itemsPerOrg + db.publicItems)
        }
        extras["tenantkit.verified_principal() calls per catalog page (signed, large)"] = try await verificationsPerPage(env)
        return extras
    }

    /// How often the database verifies the claim for one page: once per statement (the policy's
    /// InitPlan), not once per row. Counted with `track_functions = 'all'`, switched on for a fresh
    /// tenantkit_app connection after the measured rounds, over 10 pages in one transaction.
    private func verificationsPerPage(_ env: BenchEnvironment) async throws -> Double {
        let db = try await env.large()
        let setting = "ALTER ROLE \(appRole) IN DATABASE \(db.name)"
        try await PostgresConnection.withConnection(db.superuser) { try await $0.executeScript(unsafeSQL: "\(setting) SET track_functions = 'all'") }
        do {
            let keys = PageKeys(orgCount: db.orgs)
            let connection = try await PostgresConnection.connect(db.app)
            let pages = 10
            let calls = try await OrgScope(orgID: keys.orgs[0], actor: .user(BenchIDs.user), context: env.signed, on: connection).transaction { tx in
                for k in 0..<pages {
                    let page = try await tx.fetchAll(catalogPageStatement(after: keys.cursors[k]), as: CatalogRow.self)
                    if page.isEmpty { throw BenchError("empty catalog page") }
                }
                return try await tx.fetchOne(
                    "SELECT coalesce(pg_stat_get_xact_function_calls('tenantkit.verified_principal()'::regprocedure), -1)", as: Int64.self)
            }
            await connection.close()
            try await PostgresConnection.withConnection(db.superuser) { try await $0.executeScript(unsafeSQL: "\(setting) RESET track_functions") }
            return calls < 0 ? .nan : Double(calls) / Double(pages)
        } catch {
            try? await PostgresConnection.withConnection(db.superuser) { try await $0.executeScript(unsafeSQL: "\(setting) RESET track_functions") }
            throw error
        }
    }
}

final class TenantKitCatalogPage: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = true
    let note: String?
    private let mode: ScopeMode
    private let context: any TenantContext
    private let connection: PostgresConnection
    private let keys: PageKeys
    private var offset = 0

    init(name: String, mode: ScopeMode, db: BenchDatabase, env: BenchEnvironment) async throws {
        self.name = name
        self.mode = mode
        context = mode.context(env)
        keys = PageKeys(orgCount: db.orgs)
        connection = try await PostgresConnection.connect(mode.configuration(db))
        let sql = try OrgScope(orgID: keys.orgs[0], actor: .user(BenchIDs.user), context: context, on: connection)
            .render(catalogPageStatement(after: "0")).sql
        note = "\(db.name) (\(db.orgs) orgs, \(db.orgs * db.itemsPerOrg + db.publicItems) items), as \(mode.role), \(mode.contextName): \(sql)"
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        return try await RoundSample.sequential(ops: ops) { i in
            let k = (start + i) % keys.orgs.count
            let scope = OrgScope(orgID: keys.orgs[k], actor: .user(BenchIDs.user), context: context, on: connection)
            let page: [CatalogRow]
            if mode == .unscoped {
                page = try await connection.fetchAll(try scope.render(catalogPageStatement(after: keys.cursors[k])), as: CatalogRow.self)
            } else {
                page = try await scope.fetchAll(catalogPageStatement(after: keys.cursors[k]), as: CatalogRow.self)
            }
            if page.isEmpty { throw BenchError("empty catalog page") }
        }
    }

    func tearDown() async { await connection.close() }
}

final class RawCatalogPage: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let note: String?
    private let connection: RawConnection
    private let keys: PageKeys
    private var offset = 0

    init(name: String, db: BenchDatabase, env: BenchEnvironment) async throws {
        self.name = name
        keys = PageKeys(orgCount: db.orgs)
        connection = try RawConnection(db.bypass.parameters)
        // The same text the builder renders (binds: the org id and the own half's cursor and limit,
        // the public half's cursor and limit, the merged limit).
        let pg = try await PostgresConnection.connect(db.bypass)
        let sql = try OrgScope(orgID: keys.orgs[0], actor: .user(BenchIDs.user), context: env.signed, on: pg).render(catalogPageStatement(after: "0")).sql
        await pg.close()
        try connection.prepare("page", sql)
        note = "PQexecPrepared of the rendered SQL as \(bypassRole), binary"
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        let keys = self.keys, connection = self.connection
        return try await RoundSample.sequentialBlocking(ops: ops) { i in
            let k = (start + i) % keys.orgs.count
            var cursor = keys.cursors[k]
            var limit = Int64(50).bigEndian
            try withUUIDBytes(keys.orgs[k]) { org in
                try cursor.withUTF8 { cursorBytes in
                    try withUnsafeBytes(of: &limit) { limitBytes in
                        let cursor = UnsafeRawBufferPointer(cursorBytes)
                        try connection.execPrepared("page", [org, cursor, limitBytes, cursor, limitBytes, limitBytes]) { result in
                            var page: [CatalogRow] = []
                            let n = PQntuples(result)
                            page.reserveCapacity(Int(n))
                            for row in 0..<n {
                                page.append(CatalogRow(
                                    id: RawDecode.uuid(RawDecode.cell(result, row, 0)!), kind: RawDecode.text(RawDecode.cell(result, row, 1)!),
                                    slug: RawDecode.text(RawDecode.cell(result, row, 2)!), name: RawDecode.text(RawDecode.cell(result, row, 3)!),
                                    createdAt: RawDecode.date(RawDecode.cell(result, row, 4)!)))
                            }
                            if page.isEmpty { throw BenchError("empty catalog page") }
                        }
                    }
                }
            }
        }
    }

    func tearDown() async {}
}

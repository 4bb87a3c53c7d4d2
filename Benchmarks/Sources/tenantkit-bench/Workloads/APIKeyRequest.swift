import Foundation
import TenantKitPostgres
import TenantKit
import TenantSQL

/// Workload 8: what a request that presents an API key costs: authenticate the key and read one
/// row of its organization. The key names its organization, so the database checks the key with
/// the read's own round trip; the baseline is the same read by a signed-in user.
struct APIKeyRequestWorkload: Workload {
    let number = 8
    let title = "An API-key request: authenticate the key + scoped point read, one connection"
    let defaultOpsPerRound = 5_000
    static let apiKey = "TenantKit store.withAPIKey + scoped read"
    static let user = "TenantKit user's scoped read (same read, same store)"

    var targets: [Target] {
        [Target(label: "API-key request >= 0.8x a user's scoped read", contender: Self.apiKey, baseline: Self.user, minRatio: 0.8)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.large()
        let keys = RunKeys(db)
        return [
            try await StoreRequest(name: Self.apiKey, byKey: true, db: db, keys: keys, env: env),
            try await StoreRequest(name: Self.user, byKey: false, db: db, keys: keys, env: env),
        ]
    }

    /// Round trips per request, counted on the pool's one connection over 100 requests.
    func extras(_ env: BenchEnvironment) async throws -> [String: Double] {
        let db = try await env.large()
        let keys = RunKeys(db)
        var extras: [String: Double] = [:]
        for byKey in [true, false] {
            let request = try await StoreRequest(name: "", byKey: byKey, db: db, keys: keys, env: env)
            extras["round trips per request, \(byKey ? "API key" : "user")"] = try await request.roundTripsPerRequest(100)
            await request.tearDown()
        }
        return extras
    }
}

/// One request through `TenantStore` on a pool of one connection: by API key (`withAPIKey`, the key
/// checked by the database with the read) or by user (`store.scope`).
final class StoreRequest: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = true
    let note: String?
    private let byKey: Bool
    private let pool: PostgresPool
    private let store: TenantStore
    private let keys: RunKeys
    /// Each request's key text, made before measuring.
    private let keyTexts: [String]
    private var offset = 0

    init(name: String, byKey: Bool, db: BenchDatabase, keys: RunKeys, env: BenchEnvironment) async throws {
        self.name = name
        self.byKey = byKey
        self.keys = keys
        keyTexts = (0..<keys.count).map { i in BenchIDs.apiKeyText(org: Int(keys.orgs[i].uuidString.suffix(12))!) }
        pool = PostgresPool(configuration: db.app, maxConnections: 1)
        store = TenantStore(pool: pool, key: env.key)
        note = byKey
            ? "store.withAPIKey(key) { org in org.scope.fetchOne(Select...) }: the claim carries the key's id and hash, checked by RLS in the read's round trip"
            : "store.scope(org, as: .user(id)).fetchOne(Select...)"
    }

    func request(_ k: Int) async throws {
        let run: RunSummary
        if byKey {
            run = try await store.withAPIKey(keyTexts[k]) { org in
                try await org.scope.fetchOne(runByIDStatement(keys.runs[k]), as: RunSummary.self)
            }
        } else {
            run = try await store.scope(keys.orgs[k], as: .user(BenchIDs.user)).fetchOne(runByIDStatement(keys.runs[k]), as: RunSummary.self)
        }
        if run.id != keys.runs[k] { throw BenchError("wrong row") }
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let start = offset
        offset += ops
        return try await RoundSample.sequential(ops: ops) { i in try await request((start + i) % keys.count) }
    }

    func roundTripsPerRequest(_ requests: Int) async throws -> Double {
        let before = try await pool.withConnection { $0.roundTrips }
        for k in 0..<requests { try await request(k) }
        let after = try await pool.withConnection { $0.roundTrips }
        return Double(after - before) / Double(requests)
    }

    func tearDown() async { await pool.close() }
}

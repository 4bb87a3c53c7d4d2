import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// Helpers of the isolation, fault and bad-input suites (namespaced: other TenantKitTests files
/// have helpers of their own).
enum Iso {
    /// A migrated database seeded by the leak harness's TenantKit seeders: two organizations with
    /// overlapping data in every tenant table. `body` gets the harness's orgs and a pool as `tenantkit_app`.
    /// `publishingStatements`: the app's statements show in `pg_stat_activity`, for tests that wait
    /// for one by its text.
    static func withTwoOrgs<T>(
        maxConnections: Int = 4, publishingStatements: Bool = true,
        _ body: (TestDatabase, LeakHarness.Org, LeakHarness.Org, PostgresPool) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(template: .migrated) { db in
            let (a, b) = try await LeakHarness(database: db).seed()
            if publishingStatements { try await db.publishAppStatements() }
            let pool = db.makePool(user: "tenantkit_app", maxConnections: maxConnections)
            do {
                let result = try await body(db, a, b, pool)
                await pool.close()
                return result
            } catch {
                await pool.close()
                throw error
            }
        }
    }

    /// Runs `body` on a fresh connection, closing it afterwards.
    static func withConnection<T>(_ configuration: PostgresConfiguration, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresConnection.withConnection(configuration, body)
    }

    /// A transaction as `tenantkit_app` with `org` set as TenantKit sets it: a claim signed with
    /// the test key for `user` (default: the org's admin). Nil `org` with nil `user`: nothing set;
    /// `raw`: an arbitrary claim text, as an attacker would send it.
    static func asApp<T>(
        _ db: TestDatabase, org: UUID?, user: UUID? = nil, raw: String? = nil, _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        let principal: UUID? = if let user { user } else if let org, raw == nil {
            try await withConnection(db.configuration) { admin async throws in
                try await admin.fetchOne("SELECT user_id FROM memberships WHERE org_id = \(org) AND role = 'admin' LIMIT 1", as: UUID.self)
            }
        } else { nil }
        return try await withConnection(db.configuration.with(user: "tenantkit_app")) { app async throws in
            var prelude: [PostgresQuery] = []
            if let raw {
                prelude = ["SELECT set_config('tenantkit.claim', \(raw), true)"]
            } else if let principal {
                prelude = [try TestDatabase.context.statement(orgID: org, actor: .user(principal), backendPID: app.backendPID)]
            }
            return try await app.withTransaction(prelude: prelude) { try await body($0) }
        }
    }

    /// The error `body` throws, as `E`; records a test failure (and returns nil) otherwise.
    static func error<E: Error, T>(
        _: E.Type = E.self, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
    ) async -> E? {
        await captureError(E.self, sourceLocation: sourceLocation, body)
    }

    /// Waits (polling, no deadline: the test's own time limit applies) until `marker` runs.
    static func waitUntilRunning(_ marker: String, on observer: PostgresConnection) async throws {
        while try await !isRunning(marker, on: observer) { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// Waits until backend `pid` is gone.
    static func waitUntilGone(_ pid: Int32, on observer: PostgresConnection) async throws {
        while try await observer.fetchOne("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)", as: Int.self) > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// sha256 of the UTF-8 bytes, as the schema hashes tokens and keys.
    static func sha256(_ text: String) -> Data { Data(SHA256.digest(Array(text.utf8))) }
}

/// Stands in for an error that did not happen (the expectation already recorded the failure).
struct IsoFailure: Error {}

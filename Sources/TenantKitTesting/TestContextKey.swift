import Foundation
import TenantKitPostgres
import TenantKit

extension TenantContextKey {
    /// The key every database of the `.migrated` template has installed: fixed, so templates kept
    /// on a shared `DATABASE_URL` server stay usable across runs. For tests only.
    public static let forTesting: TenantContextKey = {
        // 32 fixed bytes: the documented minimum, so this cannot throw.
        try! TenantContextKey(secret: Array("tenantkit test key, never in production".utf8.prefix(32)))
    }()
}

extension TestDatabase {
    /// A ``TenantStore`` on this database as `tenantkit_app`, signing with the test key.
    public func makeStore(maxConnections: Int = 4) -> TenantStore {
        TenantStore(pool: makePool(user: "tenantkit_app", maxConnections: maxConnections), key: .forTesting)
    }

    /// The signed context of the test key.
    public static var context: SignedTenantContext { SignedTenantContext(key: .forTesting) }

    /// Makes `tenantkit_app`'s statements visible in `pg_stat_activity` on this database, for tests
    /// that wait until a statement runs. Production keeps them hidden (`track_activities = off`,
    /// Schema/0012): another application session would read them. Affects connections opened after.
    public func publishAppStatements() async throws {
        try await PostgresConnection.withConnection(configuration) { admin in
            try await admin.executeScript(unsafeSQL: "ALTER ROLE tenantkit_app IN DATABASE \(PostgresIdentifier(name)) SET track_activities = on")
        }
    }
}

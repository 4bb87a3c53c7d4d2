import Foundation
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
}

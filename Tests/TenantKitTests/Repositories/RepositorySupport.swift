import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import Testing

/// A migrated database, a store connected as the application role, and a superuser connection
/// for checks the application role cannot make.
struct World {
    let store: TenantStore
    let admin: PostgresConnection
    /// A pool whose login may act as a platform operator (the superuser here).
    let operators: PostgresPool

    /// Runs `body` as a platform operator in the session's active organization: how credits are
    /// granted (ECU is bought; an org admin cannot grant it).
    @discardableResult
    func asPlatform<T: Sendable>(_ session: OrgSession, _ body: (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        guard let orgID = await session.activeOrgID else { throw TenantError.noActiveOrganization }
        return Scoped(orgID: orgID, value: try await body(store.platformOperator(UUID(), in: orgID, on: operators)))
    }

    /// A user with a session and a fresh organization they are the admin of.
    func founder(_ email: String, org name: String) async throws -> (user: User, session: OrgSession, orgID: UUID) {
        let user = try await store.createUser(email: email, emailVerified: true)
        let session = try await store.session(for: user.id)
        let orgID = try await session.createOrganization(named: name)
        return (user, session, orgID)
    }

    /// Rows of `table` in `orgID`, counted as superuser (RLS does not apply).
    func count(_ table: String, org orgID: UUID) async throws -> Int {
        try await admin.fetchOne("SELECT count(*) FROM \(identifier: table) WHERE org_id = \(orgID)", as: Int.self)
    }
}

func withWorld<T>(_ body: (World) async throws -> T) async throws -> T {
    try await TestDatabase.with(template: .migrated) { db in
        try await db.publishAppStatements()  // session tests wait for statements by their text
        let pool = db.makePool(user: "tenantkit_app", maxConnections: 6, acquireTimeout: .seconds(60))  // 260 racing tasks on a loaded machine
        let operators = db.makePool(maxConnections: 2)
        let admin = try await db.connect()
        do {
            let result = try await body(World(store: TenantStore(pool: pool, key: .forTesting), admin: admin, operators: operators))
            await admin.close()
            await pool.close()
            await operators.close()
            return result
        } catch {
            await admin.close()
            await pool.close()
            await operators.close()
            throw error
        }
    }
}

/// The TenantError `body` throws; records an issue when it throws nothing or something else.
func tenantError<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async -> TenantError? {
    await captureError(TenantError.self, sourceLocation: sourceLocation, body)
}

/// Whether `body` returned without throwing.
func succeeded(_ body: () async throws -> Void) async -> Bool {
    do { try await body(); return true } catch { return false }
}

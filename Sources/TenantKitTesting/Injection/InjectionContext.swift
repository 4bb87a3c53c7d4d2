import Foundation
import TenantKitPostgres
import Synchronization
import TenantKit
import TenantSQL

/// What a step or a victim check of one attack run gets: the world, the attacker, the pool the
/// attack runs on, and the suite's way of making scopes and stores (so the corpus never calls an
/// `OrgScope` or `TenantStore` initializer itself).
public struct InjectionContext: Sendable {
    /// The world the attack runs in.
    public let world: InjectionWorld
    /// The attacker, resolved in the world.
    public let principal: InjectionPrincipal
    /// The attack's database (a fresh copy of the world); its `configuration` is a superuser's.
    public let database: TestDatabase
    /// The pool the attack runs on, as the application role, with one connection: whatever an
    /// attack leaves on it is there for the next lease, a victim's included.
    public let pool: PostgresPool
    let makeScope: InjectionSuite.ScopeMaker
    let makeStore: InjectionSuite.StoreMaker
    let placeholders: [String: String]
    let resources: Resources

    /// Who carries the attack.
    public var attacker: InjectionAttacker { principal.attacker }

    /// The attacker's scope: its org (or `orgID`) and its actor, on the attack pool (or `host`).
    public func attackerScope(in orgID: UUID? = nil, on host: (any OrgScopeHost)? = nil) -> OrgScope {
        makeScope(orgID ?? principal.scopeOrgID, principal.actor, host ?? pool)
    }

    /// The victim's scope: B's admin in org B, on the attack pool (or `host`).
    public func victimScope(on host: (any OrgScopeHost)? = nil) -> OrgScope {
        makeScope(world.orgB, .user(world.adminOfB), host ?? pool)
    }

    /// The victim's repositories: B's admin in org B, on the attack pool (or `host`).
    public func victim(on host: (any OrgScopeHost)? = nil) -> ActiveOrg { ActiveOrg(scope: victimScope(on: host)) }

    /// The attacker's repositories, through TenantKit's unmodified API.
    public func attackerRepositories(in orgID: UUID? = nil) -> ActiveOrg { ActiveOrg(scope: attackerScope(in: orgID)) }

    /// A store on the attack pool (or `pool`).
    public func store(on pool: PostgresPool? = nil) -> TenantStore { makeStore(pool ?? self.pool) }

    /// Another pool as the application role, closed when the attack ends.
    public func makePool(maxConnections: Int = 1) -> PostgresPool {
        let pool = database.makePool(
            user: "tenantkit_app", maxConnections: maxConnections, acquireTimeout: .seconds(5), taintedConnections: self.pool.taintedConnections)
        resources.add(pool)
        return pool
    }

    /// A connection as the application role, closed when the attack ends.
    public func connect() async throws -> PostgresConnection {
        let connection = try await database.connect(user: "tenantkit_app")
        resources.add(connection)
        return connection
    }

    /// Runs `body` on a superuser connection: for reading the truth, never for attacking.
    public func asSuperuser<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresConnection.withConnection(database.configuration, body)
    }

    /// `template` with every `{{name}}` the attacker knows filled in.
    public func sql(_ template: String) -> String {
        var sql = template
        for (name, value) in placeholders { sql = sql.replacingOccurrences(of: "{{\(name)}}", with: value) }
        return sql
    }

    /// Pools and connections an attack opened, closed when it ends (temp objects die with them).
    final class Resources: Sendable {
        private let pools = Mutex<[PostgresPool]>([])
        private let connections = Mutex<[PostgresConnection]>([])

        func add(_ pool: PostgresPool) { pools.withLock { $0.append(pool) } }
        func add(_ connection: PostgresConnection) { connections.withLock { $0.append(connection) } }

        func closeAll() async {
            for pool in pools.withLock({ p in defer { p = [] }; return p }) { await pool.close() }
            for connection in connections.withLock({ c in defer { c = [] }; return c }) { await connection.close() }
        }
    }
}

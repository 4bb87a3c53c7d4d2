import Foundation
import Synchronization
import Logging
import TenantKitPostgres

/// A fresh database for one test, cloned from a template database.
///
/// ```swift
/// @Test func insertsUsers() async throws {
///     try await TestDatabase.with { db in
///         let pool = db.makePool()
///         try await pool.execute("CREATE TABLE t (id int)")
///     }
/// }
/// ```
///
/// The server is `DATABASE_URL` when it is set (the role needs CREATEDB), otherwise a throwaway
/// ``EmbeddedPostgres`` started once per process. Each database is a clone of a template database
/// prepared once per process, so tests run in parallel without seeing each other's data. If no server
/// can be had, the call throws an error that says what to install: a test using it fails, never skips.
public struct TestDatabase: Sendable {
    /// A superuser (or `DATABASE_URL`'s role) connection to this test's database.
    public let configuration: PostgresConfiguration
    /// The database's name.
    public let name: String

    /// Creates a database cloned from `template`, runs `body`, then drops the database.
    public static func with<T>(
        template: TestDatabaseTemplate = .empty,
        _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let database = try await create(template: template)
        do {
            let result = try await body(database)
            try await database.drop()
            return result
        } catch {
            try? await database.drop()
            throw error
        }
    }

    /// Creates a database cloned from `template`. Drop it with ``drop()``.
    public static func create(template: TestDatabaseTemplate = .empty) async throws -> TestDatabase {
        let server = try await TestServer.shared.admin()
        let templateName = try await TestServer.shared.prepare(template)
        let name = "tk_test_\(getpid())_\(TestServer.nextDatabaseNumber())"
        let admin = try await PostgresConnection.connect(server, logger: TestDatabase.logger)
        defer { Task { await admin.close() } }
        try await admin.executeScript(unsafeSQL: "CREATE DATABASE \(PostgresIdentifier(name)) TEMPLATE \(PostgresIdentifier(templateName))")
        // A clone does not inherit its template's database privileges: keep TEMPORARY revoked
        // from PUBLIC where the template's migrations revoked it.
        let temporaryRevoked = try await admin.fetchOne("""
            SELECT datacl IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'TEMPORARY')
            FROM pg_database WHERE datname = \(templateName)
            """, as: Bool.self)
        if temporaryRevoked {
            try await admin.executeScript(unsafeSQL: "REVOKE TEMPORARY ON DATABASE \(PostgresIdentifier(name)) FROM PUBLIC")
        }
        return TestDatabase(configuration: server.with(database: name), name: name)
    }

    /// Drops the database, disconnecting anyone still connected.
    public func drop() async throws {
        let admin = try await PostgresConnection.connect(try await TestServer.shared.admin(), logger: TestDatabase.logger)
        try await admin.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(PostgresIdentifier(name)) WITH (FORCE)")
        await admin.close()
    }

    /// A pool on this database (as the superuser, or as `user` when given).
    public func makePool(
        user: String? = nil, maxConnections: Int = 4, acquireTimeout: Duration = .seconds(10),
        observability: PostgresObservability = .bootstrapped, taintedConnections: TaintedConnections = .reset
    ) -> PostgresPool {
        let configuration = user.map { self.configuration.with(user: $0) } ?? self.configuration
        return PostgresPool(
            configuration: configuration, maxConnections: maxConnections, acquireTimeout: acquireTimeout,
            taintedConnections: taintedConnections, logger: Self.logger, observability: observability)
    }

    /// The logger of the pools and connections made here: warnings and errors only, unless
    /// `TENANTKIT_TEST_LOG_LEVEL` names another level (`trace` ... `critical`). Tests break
    /// connections on purpose, and a passing run should not print each one.
    public static let logger: Logger = {
        var logger = Logger(label: "tenantkit.test")
        let level = ProcessInfo.processInfo.environment["TENANTKIT_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .warning
        return logger
    }()

    /// One connection to this database (as the superuser, or as `user`).
    public func connect(user: String? = nil) async throws -> PostgresConnection {
        try await PostgresConnection.connect(user.map { configuration.with(user: $0) } ?? configuration, logger: Self.logger)
    }
}

/// How a template database is made: once per process (or reused across runs on a `DATABASE_URL`
/// server while its fingerprint is unchanged).
public struct TestDatabaseTemplate: Sendable {
    /// Short name, part of the database name.
    public let name: String
    /// Changes whenever what `prepare` builds changes (for example a hash of the migrations).
    public let fingerprint: String
    /// Fills the freshly created template database.
    public let prepare: @Sendable (PostgresConfiguration) async throws -> Void

    public init(name: String, fingerprint: String, prepare: @escaping @Sendable (PostgresConfiguration) async throws -> Void) {
        self.name = name
        self.fingerprint = fingerprint
        self.prepare = prepare
    }

    /// An empty database.
    public static let empty = TestDatabaseTemplate(name: "empty", fingerprint: "1") { _ in }
}

/// The server tests use, started or found once per process.
public actor TestServer {
    public static let shared = TestServer()

    private var embedded: EmbeddedPostgres?
    /// Started once: the actor is re-entered while the server starts, so callers share this task.
    private var starting: Task<PostgresConfiguration, any Error>?
    private var templates: [String: String] = [:]
    private static let counter = Counter()

    /// Connection settings for a role that may create databases: `DATABASE_URL`, or the throwaway server's superuser.
    public func admin() async throws -> PostgresConfiguration {
        if let starting { return try await starting.value }
        let task = Task<PostgresConfiguration, any Error> {
            if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
                return try PostgresConfiguration.fromEnvironment()
            }
            let server = try await EmbeddedPostgres.start(settings: TestServer.settings)
            EmbeddedServerRegistry.stopAtExit(server)
            self.adopt(server)
            return server.configuration
        }
        starting = task
        return try await task.value
    }

    private func adopt(_ server: EmbeddedPostgres) { embedded = server }

    /// What the throwaway server runs with besides its defaults. Where TenantKit's extension is
    /// installed (`Extensions/tenantkit_context`): two-phase commit on, as a Citus coordinator must
    /// have it, with the extension's prepare guard preloaded, so that the injection suite's
    /// `PREPARE TRANSACTION` attacks meet the guard and not just `max_prepared_transactions = 0`.
    /// Without the extension 2PC stays off, which refuses those attacks too.
    public static var settings: [String: String] {
        guard EmbeddedPostgres.hasLibrary("tenantkit_context") else { return [:] }
        return ["max_prepared_transactions": "8", "session_preload_libraries": "tenantkit_context"]
    }

    /// The throwaway server, when one was started (nil under `DATABASE_URL`).
    public func embeddedServer() async throws -> EmbeddedPostgres? {
        _ = try await admin()
        return embedded
    }

    /// The template database's name, creating and preparing it on first use.
    func prepare(_ template: TestDatabaseTemplate) async throws -> String {
        let key = "\(template.name)/\(template.fingerprint)"
        if let name = templates[key] { return name }
        let name = "tk_template_\(template.name)_\(stableHash(template.fingerprint))"
        let server = try await admin()
        let admin = try await PostgresConnection.connect(server, logger: TestDatabase.logger)
        defer { Task { await admin.close() } }
        // Several test processes may share a DATABASE_URL server: one of them builds each template.
        // A session lock, since CREATE DATABASE cannot run inside a transaction.
        try await admin.execute("SELECT pg_advisory_lock(hashtext(\(name)))")
        do {
            let exists = try await admin.fetchOne("SELECT count(*) FROM pg_database WHERE datname = \(name)", as: Int.self) > 0
            if !exists {
                let building = PostgresIdentifier(name + "_building")
                try await admin.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(building) WITH (FORCE)")
                try await admin.executeScript(unsafeSQL: "CREATE DATABASE \(building)")
                do {
                    try await template.prepare(server.with(database: building.name))
                } catch {
                    try? await admin.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(building) WITH (FORCE)")
                    throw error
                }
                try await admin.executeScript(unsafeSQL: "ALTER DATABASE \(building) RENAME TO \(PostgresIdentifier(name))")
            }
            try await admin.execute("SELECT pg_advisory_unlock(hashtext(\(name)))")
        } catch {
            await admin.close()  // closing releases the lock
            throw error
        }
        templates[key] = name
        return name
    }

    static func nextDatabaseNumber() -> Int { counter.next() }
}

private final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}

/// FNV-1a: stable across runs (Swift's hashValue is seeded per process).
func stableHash(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return String(hash, radix: 16)
}

/// Stops throwaway servers when the process exits normally (the watchdog covers crashes).
enum EmbeddedServerRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var servers: [EmbeddedPostgres] = []
    nonisolated(unsafe) private static var registered = false

    static func stopAtExit(_ server: EmbeddedPostgres) {
        lock.withLock {
            servers.append(server)
            if !registered {
                registered = true
                atexit { EmbeddedServerRegistry.stopAll() }
            }
        }
    }

    static func stopAll() {
        let all = lock.withLock { defer { servers = [] }; return servers }
        for server in all { server.stop() }
    }
}

import Foundation
import TenantKitPostgres

/// Applies the numbered SQL files of one or more directories (`0001_roles.sql`,
/// `0002_organizations.sql`, ...) to a database, once each, in order: every source's pending
/// files in version order, the sources in the order given.
///
/// ```swift
/// let migrator = Migrator(sources: [.tenantKit, .app("Migrations")])
/// let run = try await migrator.up(configuration: try .fromEnvironment())
/// print("applied \(run.applied.count) migrations")
/// ```
///
/// - Every file is checked before anything runs: names (`NNNN_name.sql`), duplicate versions,
///   gaps, directives. A problem throws ``MigrationError/Kind/invalidDirectory`` listing them all.
/// - `up` takes a PostgreSQL advisory lock first (waiting up to ``lockTimeout``), so two runners
///   started together apply each migration exactly once.
/// - Each file runs in its own transaction together with its row in `public.schema_migrations`
///   (source, version, name, checksum, applied_at, duration_ms): a failing file leaves nothing behind and
///   the next run simply tries it again. A file whose first line is `-- tenantkit:no-transaction`
///   holds one statement and runs outside a transaction (for `CREATE INDEX CONCURRENTLY`); it is
///   recorded once it succeeded.
/// - An applied file whose checksum (SHA-256 of its bytes) changed is drift: `up` and ``verify(on:)``
///   stop and name it.
public struct Migrator: Sendable {
    /// Where the migrations come from, in the order they are applied.
    public let sources: [MigrationSource]
    /// The last source's directory: where ``createMigration(named:)`` writes.
    public var directory: String { sources[sources.count - 1].directory }
    /// How long `up` waits for another runner's lock before giving up.
    public var lockTimeout: Duration

    /// The advisory lock key ("tenantki" in ASCII). Advisory locks are per database, so runners of
    /// different databases on one server never wait for each other.
    public static let lockKey: Int64 = 0x7465_6e61_6e74_6b69

    /// The table that records applied migrations.
    public static let table = "public.schema_migrations"

    /// A migrator of `sources`, applied in that order (each source's names must differ).
    public init(sources: [MigrationSource], lockTimeout: Duration = .seconds(30)) {
        precondition(!sources.isEmpty && Set(sources.map(\.name)).count == sources.count,
                     "a migrator needs at least one source, each under its own name")
        self.sources = sources
        self.lockTimeout = lockTimeout
    }

    /// A migrator of one directory, recorded as source `tenantkit` (as before sources existed):
    /// TenantKit's own migrations read from `directory`.
    public init(directory: String, lockTimeout: Duration = .seconds(30)) {
        self.init(sources: [MigrationSource(uncheckedName: "tenantkit", directory: directory)], lockTimeout: lockTimeout)
    }

    /// Every source's migrations, in the order `up` applies them, after checking them all: every
    /// problem of every source is reported at once.
    public func migrations() throws -> [Migration] {
        var migrations: [Migration] = []
        var failures: [MigrationError] = []
        for source in sources {
            do {
                migrations += try MigrationDirectory.load(source)
            } catch let error as MigrationError {
                failures.append(error)
            }
        }
        if failures.count == 1 { throw failures[0] }
        if failures.count > 1 {
            var combined = MigrationError(
                failures.contains { $0.kind == .directoryNotFound } ? .directoryNotFound : .invalidDirectory,
                failures.map(\.message).joined(separator: "\n"))
            combined.problems = failures.flatMap(\.problems)
            throw combined
        }
        return migrations
    }

    // MARK: Status and verify

    /// Compares the files with what the database recorded. Changes nothing (not even creating the
    /// `schema_migrations` table), so it also works as a role that may only read.
    public func status(on connection: PostgresConnection) async throws -> MigrationStatus {
        let files = try migrations()
        return try await status(of: files, applied: try await appliedRows(on: connection))
    }

    /// ``status(on:)`` on a connection of its own.
    public func status(configuration: PostgresConfiguration) async throws -> MigrationStatus {
        try await withConnection(configuration) { try await status(on: $0) }
    }

    /// Checks that every applied migration still matches its file; throws
    /// ``MigrationError/Kind/drift`` naming each changed or missing file. Pending migrations are
    /// not an error here: they are in the returned status.
    @discardableResult
    public func verify(on connection: PostgresConnection) async throws -> MigrationStatus {
        let status = try await status(on: connection)
        if !status.drift.isEmpty { throw MigrationError(drift: status.drift) }
        return status
    }

    /// ``verify(on:)`` on a connection of its own.
    @discardableResult
    public func verify(configuration: PostgresConfiguration) async throws -> MigrationStatus {
        try await withConnection(configuration) { try await verify(on: $0) }
    }

    // MARK: Up

    /// Applies every pending migration, in order.
    ///
    /// - Parameters:
    ///   - connection: a connection as the migration role (a member of `tenantkit_owner`).
    ///   - dryRun: change nothing; the result's `script` holds the SQL that would run.
    ///   - onEvent: called before and after each file.
    /// - Throws: ``MigrationError`` (invalid directory, drift, lock timeout, a failing file), or a
    ///   connection error.
    @discardableResult
    public func up(
        on connection: PostgresConnection,
        dryRun: Bool = false,
        onEvent: @Sendable (MigrationEvent) -> Void = { _ in }
    ) async throws -> MigrationRun {
        let files = try migrations()
        if dryRun {
            let status = try await status(of: files, applied: try await appliedRows(on: connection))
            if !status.drift.isEmpty { throw MigrationError(drift: status.drift) }
            let tableExists = try await tableExists(on: connection)
            return dryRunResult(files: files, status: status, tableExists: tableExists)
        }

        try await acquireLock(on: connection)
        do {
            let run = try await applyPending(files, on: connection, onEvent: onEvent)
            try await releaseLock(on: connection)
            return run
        } catch {
            await Self.despiteCancellation { try await releaseLock(on: connection) }
            throw error
        }
    }

    /// ``up(on:dryRun:onEvent:)`` on a connection of its own, closed afterwards (which also
    /// releases the lock if anything went wrong).
    @discardableResult
    public func up(
        configuration: PostgresConfiguration,
        dryRun: Bool = false,
        onEvent: @Sendable (MigrationEvent) -> Void = { _ in }
    ) async throws -> MigrationRun {
        try await withConnection(configuration) { try await up(on: $0, dryRun: dryRun, onEvent: onEvent) }
    }

    private func applyPending(
        _ files: [Migration], on connection: PostgresConnection, onEvent: @Sendable (MigrationEvent) -> Void
    ) async throws -> MigrationRun {
        // Under the lock, so concurrent runners never race on CREATE TABLE IF NOT EXISTS.
        try await connection.executeScript(unsafeSQL: Self.createTableSQL)
        let status = try await status(of: files, applied: try await appliedRows(on: connection))
        if !status.drift.isEmpty { throw MigrationError(drift: status.drift) }
        let pending = status.pendingFiles(of: files)
        var applied: [AppliedMigration] = []
        for migration in pending {
            onEvent(.applying(migration))
            let done = try await apply(migration, on: connection)
            applied.append(done)
            onEvent(.applied(done))
        }
        return MigrationRun(
            applied: applied, pending: pending.map(\.fileName), alreadyApplied: files.count - pending.count,
            dryRun: false, script: nil)
    }

    /// Runs one file and records it. The file goes to the server whole, through the simple query
    /// protocol, so error positions point into the file's own text.
    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws -> AppliedMigration {
        let clock = ContinuousClock()
        let started = clock.now
        if migration.runsInTransaction {
            let citus = try await CitusCluster.detect(on: connection)
            try await connection.executeScript(unsafeSQL: "BEGIN")
            do {
                if let citus { try await connection.executeScript(unsafeSQL: Self.citusSettings(citus)) }
                if let citus, citus.hasDistributedTables {
                    try await runStatements(of: migration, on: connection)
                } else {
                    try await connection.executeScript(unsafeSQL: migration.sql)
                }
            } catch let error as StatementFailure {
                await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
                throw failure(of: migration, error.error, line: error.line, column: error.column)
            } catch let error as PostgresError {
                await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
                throw await failure(of: migration, error, on: connection)
            } catch {
                await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
                throw error
            }
            let milliseconds = Self.milliseconds(clock.now - started)
            do {
                // The file may have switched role (SET LOCAL ROLE tenantkit_owner); the record is
                // written as the runner's own role, which created the table.
                try await connection.executeScript(unsafeSQL: "RESET ROLE")
                try await record(migration, milliseconds: milliseconds, on: connection)
                try await connection.executeScript(unsafeSQL: "COMMIT")
            } catch {
                await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
                throw error
            }
            return AppliedMigration(
                source: migration.source, version: migration.version, name: migration.name, fileName: migration.fileName,
                durationMs: milliseconds, ranInTransaction: true)
        } else {
            do {
                try await connection.executeScript(unsafeSQL: migration.sql)
            } catch let error as PostgresError {
                throw await failure(of: migration, error, on: connection)
            }
            let milliseconds = Self.milliseconds(clock.now - started)
            try await record(migration, milliseconds: milliseconds, on: connection)
            return AppliedMigration(
                source: migration.source, version: migration.version, name: migration.name, fileName: migration.fileName,
                durationMs: milliseconds, ranInTransaction: false)
        }
    }

    /// What a file's transaction sets first on a Citus coordinator. Before anything is distributed the
    /// coordinator takes the schema as a single server would: with DDL propagation on, Citus would
    /// send each new function to the workers at once, where the tables, schemas and parameter grants it
    /// needs are not (`permission denied to set parameter`, `schema "tenantkit" does not exist`).
    /// `tenantkit citus distribute` brings the workers up to date afterwards. Once tables are
    /// distributed, changes to them must propagate, so the setting stays on. The native verifier reads
    /// its tables by index on the local node, which on Citus holds only empty shells: keep the
    /// portable one (0017 reads `tenantkit.context_verifier`).
    static func citusSettings(_ citus: CitusCluster) -> String {
        (citus.hasDistributedTables ? "" : "SET LOCAL citus.enable_ddl_propagation = off;\n")
            + "SET LOCAL tenantkit.context_verifier = 'portable'"
    }

    /// A statement of a file that failed, with its line and column in the file.
    private struct StatementFailure: Error {
        let error: PostgresError
        let line: Int
        let column: Int?
    }

    /// Runs a file's statements one by one (in the caller's transaction): Citus refuses a
    /// multi-statement script that changes distributed tables ("cannot insert multiple commands into
    /// a prepared statement").
    private func runStatements(of migration: Migration, on connection: PostgresConnection) async throws {
        for statement in SQLStatementSplitter.split(migration.sql) {
            do {
                try await connection.executeScript(unsafeSQL: statement.text)
            } catch let error as PostgresError {
                guard let position = error.position else { throw StatementFailure(error: error, line: statement.line, column: nil) }
                let found = SQLStatementSplitter.lineAndColumn(ofPosition: statement.scalarOffset + position, in: migration.sql)
                throw StatementFailure(error: error, line: found.line, column: found.column)
            }
        }
    }

    private func record(_ migration: Migration, milliseconds: Int, on connection: PostgresConnection) async throws {
        try await connection.execute("""
            INSERT INTO public.schema_migrations (source, version, name, checksum, duration_ms)
            VALUES (\(migration.source), \(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
            """)
        try await connection.execute(Self.recordFunctions(version: migration.version))
    }

    /// Records every function the migrations have left (signature and a digest of its definition) in
    /// `public.schema_functions`, so `doctor` can name a function nobody migrated in: a backdoor.
    static func recordFunctions(version: Int) -> PostgresQuery {
        """
        WITH present AS (
            SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS signature,
                   md5(pg_catalog.pg_get_functiondef(p.oid)) AS definition_md5
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prokind IN ('f', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        ), gone AS (
            DELETE FROM public.schema_functions f WHERE NOT EXISTS (SELECT 1 FROM present WHERE present.signature = f.signature)
        )
        INSERT INTO public.schema_functions (signature, definition_md5, version)
        SELECT signature, definition_md5, \(version) FROM present
        ON CONFLICT (signature) DO UPDATE SET definition_md5 = EXCLUDED.definition_md5, version = EXCLUDED.version
        WHERE public.schema_functions.definition_md5 <> EXCLUDED.definition_md5
        """
    }

    /// The error for a failing file: file, line, column, SQLSTATE and the server's message.
    private func failure(of migration: Migration, _ error: PostgresError, on connection: PostgresConnection) async -> MigrationError {
        var line: Int?
        var column: Int?
        if let position = error.position {
            (line, column) = SQLStatementSplitter.lineAndColumn(ofPosition: position, in: migration.sql)
        } else if migration.runsInTransaction {
            (line, column) = await locateRuntimeError(of: migration, error, on: connection)
        } else {
            line = SQLStatementSplitter.split(migration.sql).first?.line
        }
        return failure(of: migration, error, line: line, column: column)
    }

    private func failure(of migration: Migration, _ error: PostgresError, line: Int?, column: Int?) -> MigrationError {
        var text = migration.displayName
        if let line { text += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        text += ": \(error.severity) \(error.code): \(error.message)"
        if let detail = error.detail { text += "\nDETAIL: \(detail)" }
        if let hint = error.hint { text += "\nHINT: \(hint)" }
        if migration.runsInTransaction {
            text += "\n\(migration.fileName) was rolled back entirely and not recorded; fix it and run the migrations again."
        } else {
            text += "\n\(migration.fileName) ran outside a transaction and was not recorded; a failed CREATE INDEX "
                + "CONCURRENTLY can leave an INVALID index behind: drop it before running the migrations again."
        }
        var failure = MigrationError(.migrationFailed, text)
        failure.fileName = migration.fileName
        failure.line = line
        failure.column = column
        failure.postgresError = error
        return failure
    }

    /// The server gives no position for errors raised while a statement runs (a failing DO block,
    /// a constraint violation). To still name a line, the file's statements are replayed one by one
    /// in a transaction that is always rolled back, until one fails the same way.
    private func locateRuntimeError(
        of migration: Migration, _ error: PostgresError, on connection: PostgresConnection
    ) async -> (Int?, Int?) {
        let statements = SQLStatementSplitter.split(migration.sql)
        guard statements.count > 1 else { return (statements.first?.line, nil) }
        guard (try? await connection.executeScript(unsafeSQL: "BEGIN")) != nil else { return (nil, nil) }
        for statement in statements {
            do {
                try await connection.executeScript(unsafeSQL: statement.text)
            } catch let replayed as PostgresError {
                await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
                guard replayed.code == error.code else { return (nil, nil) }
                if let position = replayed.position {
                    let found = SQLStatementSplitter.lineAndColumn(ofPosition: statement.scalarOffset + position, in: migration.sql)
                    return (found.line, found.column)
                }
                return (statement.line, nil)
            } catch {
                await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
                return (nil, nil)
            }
        }
        await Self.despiteCancellation { try await connection.executeScript(unsafeSQL: "ROLLBACK") }
        return (nil, nil)
    }

    // MARK: New

    /// Creates the next migration file, `NNNN_name.sql`, and returns its path.
    ///
    /// `name` is lowercased and every run of other characters than letters and digits becomes `_`
    /// (`"Add widgets"` -> `0011_add_widgets.sql`).
    @discardableResult
    public func createMigration(named name: String) throws -> String {
        let last = sources[sources.count - 1]
        let files = try FileManager.default.fileExists(atPath: last.directory) ? MigrationDirectory.load(last) : []
        var slug = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.hasSuffix("_") {
                slug += "_"
            }
        }
        slug = slug.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        guard !slug.isEmpty else {
            throw MigrationError(.invalidName, "\"\(name)\" has no letters or digits to name a migration file with")
        }
        let version = (files.last?.version ?? 0) + 1
        let fileName = String(format: "%04d", version) + "_\(slug).sql"
        try FileManager.default.createDirectory(atPath: last.directory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: last.directory).appendingPathComponent(fileName).path
        let template = """
            SET LOCAL ROLE tenantkit_owner;

            -- \(fileName.dropLast(4)): say what this migration changes and why.
            -- Runs in its own transaction. For CREATE INDEX CONCURRENTLY, make the first line
            -- `\(Migration.noTransactionDirective)` and keep the file to that one statement.

            """
        guard FileManager.default.createFile(atPath: path, contents: Data(template.utf8)) else {
            throw MigrationError(.invalidName, "cannot create \(path)")
        }
        return path
    }

    // MARK: Pieces

    /// The tracking tables. A table of before sources (keyed by version alone) gets the source
    /// column, its rows recorded as TenantKit's, and the key (source, version).
    static let createTableSQL = """
        CREATE TABLE IF NOT EXISTS public.schema_migrations (
            source      text        NOT NULL DEFAULT 'tenantkit',
            version     bigint      NOT NULL,
            name        text        NOT NULL,
            checksum    text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now(),
            duration_ms bigint      NOT NULL,
            CONSTRAINT schema_migrations_pkey PRIMARY KEY (source, version)
        );
        ALTER TABLE public.schema_migrations ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'tenantkit';
        DO $key$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                            WHERE i.indrelid = 'public.schema_migrations'::regclass AND i.indisprimary AND i.indnatts = 2) THEN
                ALTER TABLE public.schema_migrations DROP CONSTRAINT IF EXISTS schema_migrations_pkey;
                ALTER TABLE public.schema_migrations ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (source, version);
            END IF;
        END
        $key$;
        CREATE TABLE IF NOT EXISTS public.schema_functions (
            signature      text   NOT NULL PRIMARY KEY,
            definition_md5 text   NOT NULL,
            version        bigint NOT NULL
        );
        GRANT SELECT ON public.schema_functions TO PUBLIC
        """

    private struct AppliedRow: Decodable {
        let source: String
        let version: Int
        let name: String
        let checksum: String
        let appliedAt: Date
        let durationMs: Int
    }

    private func tableExists(on connection: PostgresConnection) async throws -> Bool {
        try await connection.fetchOne("SELECT to_regclass('public.schema_migrations') IS NOT NULL", as: Bool.self)
    }

    private func appliedRows(on connection: PostgresConnection) async throws -> [AppliedRow] {
        guard try await tableExists(on: connection) else { return [] }
        // A table of before sources has no source column: its rows are TenantKit's.
        let hasSource = try await connection.fetchOne("""
            SELECT count(*) > 0 FROM pg_catalog.pg_attribute
            WHERE attrelid = 'public.schema_migrations'::regclass AND attname = 'source' AND NOT attisdropped
            """, as: Bool.self)
        return try await connection.fetchAll(
            hasSource
                ? "SELECT source, version, name, checksum, applied_at, duration_ms FROM public.schema_migrations ORDER BY source, version"
                : "SELECT 'tenantkit' AS source, version, name, checksum, applied_at, duration_ms FROM public.schema_migrations ORDER BY version",
            as: AppliedRow.self)
    }

    private func status(of files: [Migration], applied: [AppliedRow]) async throws -> MigrationStatus {
        struct Key: Hashable { let source: String; let version: Int }
        let appliedByKey = Dictionary(applied.map { (Key(source: $0.source, version: $0.version), $0) }, uniquingKeysWith: { first, _ in first })
        var states: [MigrationState] = files.map { file in
            guard let row = appliedByKey[Key(source: file.source, version: file.version)] else {
                return MigrationState(
                    source: file.source, version: file.version, name: file.name, fileName: file.fileName, state: .pending,
                    checksum: file.checksum, appliedChecksum: nil, appliedAt: nil, durationMs: nil)
            }
            let same = row.checksum == file.checksum && row.name == file.name
            return MigrationState(
                source: file.source, version: file.version, name: file.name, fileName: file.fileName, state: same ? .applied : .changed,
                checksum: file.checksum, appliedChecksum: row.checksum, appliedAt: row.appliedAt, durationMs: row.durationMs)
        }
        // Rows of sources this migrator does not read (another tool's, say) are not its to judge.
        let fileKeys = Set(files.map { Key(source: $0.source, version: $0.version) })
        let names = Set(sources.map(\.name))
        for row in applied where names.contains(row.source) && !fileKeys.contains(Key(source: row.source, version: row.version)) {
            states.append(MigrationState(
                source: row.source, version: row.version, name: row.name,
                fileName: String(format: "%04d", row.version) + "_\(row.name).sql",
                state: .missingFile, checksum: nil, appliedChecksum: row.checksum, appliedAt: row.appliedAt,
                durationMs: row.durationMs))
        }
        let order = Dictionary(uniqueKeysWithValues: sources.enumerated().map { ($1.name, $0) })
        states.sort { (order[$0.source] ?? 0, $0.version) < (order[$1.source] ?? 0, $1.version) }
        return MigrationStatus(migrations: states)
    }

    private func dryRunResult(files: [Migration], status: MigrationStatus, tableExists: Bool) -> MigrationRun {
        let pending = status.pendingFiles(of: files)
        var script = ""
        if !tableExists && !pending.isEmpty { script += Self.createTableSQL + ";\n\n" }
        for migration in pending {
            // Names are [a-z0-9_] and checksums hex (checked when loading), so quoting them is trivial.
            let record = "INSERT INTO public.schema_migrations (source, version, name, checksum, duration_ms) "
                + "VALUES ('\(migration.source)', \(migration.version), '\(migration.name)', '\(migration.checksum)', <duration>);"
            script += "-- \(migration.displayName)\n"
            if migration.runsInTransaction {
                script += "BEGIN;\n\(migration.sql)\(migration.sql.hasSuffix("\n") ? "" : "\n");\nRESET ROLE;\n\(record)\nCOMMIT;\n\n"
            } else {
                script += "-- (outside a transaction)\n\(migration.sql)\(migration.sql.hasSuffix("\n") ? "" : "\n");\n\(record)\n\n"
            }
        }
        return MigrationRun(
            applied: [], pending: pending.map(\.fileName), alreadyApplied: files.count - pending.count,
            dryRun: true, script: script)
    }

    private func acquireLock(on connection: PostgresConnection) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + lockTimeout
        while true {
            if try await connection.fetchOne("SELECT pg_try_advisory_lock(\(Self.lockKey))", as: Bool.self) { return }
            if clock.now >= deadline { break }
            try await Task.sleep(for: min(.milliseconds(100), max(.milliseconds(1), deadline - clock.now)))
        }
        struct Holder: Decodable { let pid: Int; let applicationName: String; let database: String }
        let holders = (try? await connection.fetchAll("""
            SELECT l.pid, coalesce(a.application_name, '') AS application_name, current_database() AS database
            FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted
              AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
              AND l.classid = \(Self.lockKey >> 32)::oid AND l.objid = \(Self.lockKey & 0xffff_ffff)::oid
              AND l.objsubid = 1
            """, as: Holder.self)) ?? []
        let database = holders.first?.database ?? connection.configuration.database ?? "?"
        var message = "timed out after \(lockTimeout) waiting for the migration lock on database \(database) "
            + "(advisory lock \(Self.lockKey)): another migration runner is still working"
        if !holders.isEmpty {
            let list = holders.map { "pid \($0.pid)" + ($0.applicationName.isEmpty ? "" : " (\($0.applicationName))") }
            message += "; held by " + list.joined(separator: ", ")
                + ". If that session is stuck, end it with SELECT pg_terminate_backend(\(holders[0].pid)), then run again."
        } else {
            message += ". Run again when it has finished."
        }
        throw MigrationError(.lockTimeout, message)
    }

    /// Runs clean-up (ROLLBACK, unlock) even when the calling task was cancelled: a cancelled task's
    /// own calls throw before sending anything, which would leave the caller's connection in an
    /// aborted transaction, still holding the lock. A new task does not inherit the cancellation.
    private static func despiteCancellation(_ work: @escaping @Sendable () async throws -> Void) async {
        await Task { try? await work() }.value
    }

    private func releaseLock(on connection: PostgresConnection) async throws {
        _ = try await connection.fetchOne("SELECT pg_advisory_unlock(\(Self.lockKey))", as: Bool.self)
    }

    private func withConnection<T: Sendable>(
        _ configuration: PostgresConfiguration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await PostgresConnection.withConnection(
            configuration.parameters["application_name"] == nil
                ? configuration.with("application_name", "tenantkit migrate") : configuration, body)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

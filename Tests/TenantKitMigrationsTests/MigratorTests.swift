import Foundation
import TenantKitPostgres
import Testing
import TenantKitTesting
@testable import TenantKitMigrations

@Suite struct MigratorTests {
    @Test func realSchemaMigratesAnEmptyDatabaseAndRerunIsANoOp() async throws {
        try await TestDatabase.with { db async throws in
            let migrator = Migrator(directory: schemaDirectory)
            let files = try migrator.migrations()
            let first = try await migrator.up(configuration: db.configuration)
            #expect(first.applied.map(\.fileName) == files.map(\.fileName))
            #expect(first.alreadyApplied == 0)

            let second = try await migrator.up(configuration: db.configuration)
            #expect(second.applied.isEmpty)
            #expect(second.pending.isEmpty)
            #expect(second.alreadyApplied == files.count)

            try await withConnection(db.configuration) { conn async throws in
                struct Row: Decodable { let version: Int; let name: String; let checksum: String; let durationMs: Int }
                let rows = try await conn.fetchAll(
                    "SELECT version, name, checksum, duration_ms FROM public.schema_migrations ORDER BY version", as: Row.self)
                #expect(rows.map(\.version) == files.map(\.version))
                #expect(rows.map(\.name) == files.map(\.name))
                #expect(rows.map(\.checksum) == files.map(\.checksum))
                #expect(rows.allSatisfy { $0.durationMs >= 0 })
                // Everything is owned by tenantkit_owner, nothing by the app role.
                let owners = try await conn.fetchAll("""
                    SELECT DISTINCT pg_get_userbyid(relowner)::text FROM pg_class
                    WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'i')
                      AND relname NOT LIKE 'schema_migrations%' AND relname NOT LIKE 'schema_functions%'
                    """, as: String.self)
                #expect(owners == ["tenantkit_owner"])
            }
            let status = try await migrator.status(configuration: db.configuration)
            #expect(status.isUpToDate)
        }
    }

    @Test func statusListsAppliedAndPending() async throws {
        try await withMigrationFiles(["0001_a.sql": "CREATE TABLE a (id int);\n", "0002_b.sql": "CREATE TABLE b (id int);\n"]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let migrator = Migrator(directory: directory)
                let before = try await migrator.status(configuration: db.configuration)
                #expect(before.migrations.map(\.state) == [.pending, .pending])
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == nil)  // status creates nothing
                }

                try await migrator.up(configuration: db.configuration)
                try writeFile(directory, "0003_c.sql", "CREATE TABLE c (id int);\n")
                let after = try await migrator.status(configuration: db.configuration)
                #expect(after.migrations.map(\.fileName) == ["0001_a.sql", "0002_b.sql", "0003_c.sql"])
                #expect(after.migrations.map(\.state) == [.applied, .applied, .pending])
                #expect(after.pending.map(\.fileName) == ["0003_c.sql"])
                #expect(!after.isUpToDate)
                #expect(after.migrations[0].appliedAt != nil)
                #expect(after.migrations[0].appliedChecksum == SHA256.hex(Array("CREATE TABLE a (id int);\n".utf8)))
                #expect(after.migrations[2].appliedAt == nil)

                let run = try await migrator.up(configuration: db.configuration)
                #expect(run.applied.map(\.fileName) == ["0003_c.sql"])
                #expect(run.alreadyApplied == 2)
            }
        }
    }

    @Test func cancellingARunLeavesTheCallersConnectionCleanAndUnlocked() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "CREATE TABLE a (id int);\n",
            "0002_slow.sql": "CREATE TABLE b (id int);\nSELECT pg_sleep(30) /* slow-migration */;\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                try await withConnection(db.configuration) { connection async throws in
                    try await withConnection(db.configuration) { observer async throws in
                        let run = Task { try await Migrator(directory: directory).up(on: connection) }
                        while try await observer.fetchOne(
                            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%slow-migration */%' AND state = 'active' AND pid <> pg_backend_pid()",
                            as: Int.self) == 0 {
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        run.cancel()
                        _ = try? await run.value
                        // The caller's connection is out of the transaction and no longer holds the lock.
                        #expect(try await connection.fetchOne("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", as: Int.self) == 0)
                        #expect(try await relationExists(connection, "a"))
                        #expect(try await !relationExists(connection, "b"))
                        #expect(try await recordedVersions(connection) == [1])
                    }
                }
            }
        }
    }

    @Test func failingFileRollsBackEntirelyNamesFileAndLineAndRerunsAfterAFix() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "CREATE TABLE a (id int);\n",
            "0002_b.sql": "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n\nSELECT * FROM\n  missing_table;\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let migrator = Migrator(directory: directory)
                let error = try await expectMigrationError { try await migrator.up(configuration: db.configuration) }
                #expect(error.kind == .migrationFailed)
                #expect(error.fileName == "0002_b.sql")
                #expect(error.line == 5)
                #expect(error.column == 3)
                #expect(error.postgresError?.code == .undefinedTable)
                #expect(error.description.hasPrefix("0002_b.sql:5:3: ERROR 42P01 undefined_table: relation \"missing_table\" does not exist\n"))
                #expect(error.description.contains("0002_b.sql was rolled back entirely and not recorded"))

                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == [1])
                    #expect(try await relationExists(conn, "public.a"))
                    #expect(try await relationExists(conn, "public.b") == false)
                }

                try writeFile(directory, "0002_b.sql", "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n")
                let run = try await migrator.up(configuration: db.configuration)
                #expect(run.applied.map(\.fileName) == ["0002_b.sql"])
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == [1, 2])
                    #expect(try await conn.fetchAll("SELECT id FROM b", as: Int.self) == [1])
                }
            }
        }
    }

    @Test func runtimeErrorWithoutPositionStillNamesTheLine() async throws {
        try await withMigrationFiles([
            "0001_c.sql": "CREATE TABLE c (id int PRIMARY KEY);\nINSERT INTO c VALUES (1);\n-- the duplicate:\nINSERT INTO c VALUES (1);\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let error = try await expectMigrationError { try await Migrator(directory: directory).up(configuration: db.configuration) }
                #expect(error.fileName == "0001_c.sql")
                #expect(error.line == 4)
                #expect(error.column == nil)
                #expect(error.postgresError?.code == .uniqueViolation)
                #expect(error.description.hasPrefix(
                    "0001_c.sql:4: ERROR 23505 unique_violation: duplicate key value violates unique constraint \"c_pkey\"\nDETAIL: Key (id)=(1) already exists."))
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == [])
                    #expect(try await relationExists(conn, "public.c") == false)  // the replay was rolled back too
                }
            }
        }
    }

    @Test func driftStopsUpAndVerifyNamingTheFile() async throws {
        try await withMigrationFiles(["0001_a.sql": "CREATE TABLE a (id int);\n", "0002_b.sql": "CREATE TABLE b (id int);\n"]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let migrator = Migrator(directory: directory)
                try await migrator.up(configuration: db.configuration)
                #expect(try await migrator.verify(configuration: db.configuration).isUpToDate)

                try writeFile(directory, "0001_a.sql", "CREATE TABLE a (id bigint);\n")
                try writeFile(directory, "0003_c.sql", "CREATE TABLE c (id int);\n")
                let upError = try await expectMigrationError { try await migrator.up(configuration: db.configuration) }
                #expect(upError.kind == .drift)
                #expect(upError.drift.map(\.fileName) == ["0001_a.sql"])
                #expect(upError.drift.map(\.state) == [.changed])
                #expect(upError.description.contains("0001_a.sql: changed after it was applied (applied checksum \(SHA256.hex(Array("CREATE TABLE a (id int);\n".utf8))), file now \(SHA256.hex(Array("CREATE TABLE a (id bigint);\n".utf8))))"))
                let verifyError = try await expectMigrationError { try await migrator.verify(configuration: db.configuration) }
                #expect(verifyError.kind == .drift)
                #expect(verifyError.drift.map(\.fileName) == ["0001_a.sql"])
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == [1, 2])  // 0003 did not run
                    #expect(try await relationExists(conn, "public.c") == false)
                }

                // A dry run refuses too.
                let dryError = try await expectMigrationError { try await migrator.up(configuration: db.configuration, dryRun: true) }
                #expect(dryError.kind == .drift)
            }
        }
    }

    @Test func appliedMigrationWhoseFileIsGoneIsDrift() async throws {
        try await withMigrationFiles(["0001_a.sql": "CREATE TABLE a (id int);\n", "0002_b.sql": "CREATE TABLE b (id int);\n"]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let migrator = Migrator(directory: directory)
                try await migrator.up(configuration: db.configuration)
                try FileManager.default.removeItem(atPath: "\(directory)/0002_b.sql")
                let error = try await expectMigrationError { try await migrator.verify(configuration: db.configuration) }
                #expect(error.drift.map(\.fileName) == ["0002_b.sql"])
                #expect(error.drift.map(\.state) == [.missingFile])
                #expect(error.description.contains("0002_b.sql: applied (checksum \(SHA256.hex(Array("CREATE TABLE b (id int);\n".utf8)))) but the file is gone"))
            }
        }
    }

    @Test func invalidDirectoryIsReportedBeforeAnythingRuns() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "CREATE TABLE a (id int);\n",
            "0003_c.sql": "CREATE TABLE c (id int);\n",
            "0003_d.sql": "CREATE TABLE d (id int);\n",
            "bad.sql": "CREATE TABLE bad (id int);\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let error = try await expectMigrationError { try await Migrator(directory: directory).up(configuration: db.configuration) }
                #expect(error.kind == .invalidDirectory)
                #expect(error.problems.count == 3)
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == nil)
                    #expect(try await relationExists(conn, "public.a") == false)
                }
            }
        }
    }

    @Test func noTransactionDirectiveRunsCreateIndexConcurrently() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "CREATE TABLE a (id int);\nINSERT INTO a SELECT generate_series(1, 100);\n",
            "0002_a_index.sql": "-- tenantkit:no-transaction\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let run = try await Migrator(directory: directory).up(configuration: db.configuration)
                #expect(run.applied.map(\.ranInTransaction) == [true, false])
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == [1, 2])
                    #expect(try await conn.fetchOne(
                        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_id_idx'::regclass", as: Bool.self))
                }
            }
        }
    }

    @Test func failingNoTransactionFileIsNotRecorded() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1), (1);\n",
            "0002_a_unique.sql": "-- tenantkit:no-transaction\n\nCREATE UNIQUE INDEX CONCURRENTLY a_id_key ON a (id);\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let error = try await expectMigrationError { try await Migrator(directory: directory).up(configuration: db.configuration) }
                #expect(error.fileName == "0002_a_unique.sql")
                #expect(error.line == 3)
                #expect(error.postgresError?.code == .uniqueViolation)
                #expect(error.description.contains("ran outside a transaction and was not recorded"))
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == [1])
                }
            }
        }
    }

    @Test func twoConcurrentRunnersApplyEachMigrationExactlyOnce() async throws {
        var files: [String: String] = [:]
        for version in 1...6 {
            let name = String(format: "%04d_t%d.sql", version, version)
            files[name] = "CREATE TABLE t\(version) (id int);\nSELECT pg_sleep(0.02);\n"
        }
        try await withMigrationFiles(files) { directory async throws in
            try await TestDatabase.with { db async throws in
                let migrator = Migrator(directory: directory)
                async let first = migrator.up(configuration: db.configuration)
                async let second = migrator.up(configuration: db.configuration)
                let runs = try await [first, second]
                let applied = runs.flatMap(\.applied).map(\.version).sorted()
                #expect(applied == Array(1...6))
                // The runner that waited found nothing left to do.
                #expect(runs.contains { $0.applied.isEmpty && $0.alreadyApplied == 6 })
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == Array(1...6))
                }
            }
        }
    }

    @Test func lockTimeoutSaysWhoHoldsTheLock() async throws {
        try await withMigrationFiles(["0001_a.sql": "CREATE TABLE a (id int);\n"]) { directory async throws in
            try await TestDatabase.with { db async throws in
                try await withConnection(db.configuration) { holder async throws in
                    try await holder.execute("SELECT pg_advisory_lock(\(Migrator.lockKey))")
                    let migrator = Migrator(directory: directory, lockTimeout: .milliseconds(200))
                    let error = try await expectMigrationError { try await migrator.up(configuration: db.configuration) }
                    #expect(error.kind == .lockTimeout)
                    #expect(error.description.hasPrefix(
                        "timed out after 0.2 seconds waiting for the migration lock on database \(db.name) (advisory lock \(Migrator.lockKey)): another migration runner is still working; held by pid \(holder.backendPID)"))
                    #expect(try await recordedVersions(holder) == nil)
                    #expect(try await relationExists(holder, "public.a") == false)

                    try await holder.execute("SELECT pg_advisory_unlock(\(Migrator.lockKey))")
                    let run = try await migrator.up(configuration: db.configuration)
                    #expect(run.applied.map(\.version) == [1])
                }
            }
        }
    }

    @Test func dryRunPrintsTheSQLAndChangesNothing() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "CREATE TABLE a (id int);\n",
            "0002_a_index.sql": "-- tenantkit:no-transaction\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n",
        ]) { directory async throws in
            try await TestDatabase.with { db async throws in
                let migrator = Migrator(directory: directory)
                let run = try await migrator.up(configuration: db.configuration, dryRun: true)
                #expect(run.dryRun)
                #expect(run.applied.isEmpty)
                #expect(run.pending == ["0001_a.sql", "0002_a_index.sql"])
                let files = try migrator.migrations()
                #expect(run.script == Migrator.createTableSQL + ";\n\n"
                    + "-- 0001_a.sql\nBEGIN;\nCREATE TABLE a (id int);\n;\nRESET ROLE;\n"
                    + "INSERT INTO public.schema_migrations (source, version, name, checksum, duration_ms) VALUES ('tenantkit', 1, 'a', '\(files[0].checksum)', <duration>);\nCOMMIT;\n\n"
                    + "-- 0002_a_index.sql\n-- (outside a transaction)\n"
                    + "-- tenantkit:no-transaction\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n;\n"
                    + "INSERT INTO public.schema_migrations (source, version, name, checksum, duration_ms) VALUES ('tenantkit', 2, 'a_index', '\(files[1].checksum)', <duration>);\n\n")
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == nil)
                    #expect(try await relationExists(conn, "public.a") == false)
                }
            }
        }
    }

    // MARK: Sources

    @Test func twoSourcesKeepTheirVersionsApartAndTenantKitsRunFirst() async throws {
        try await withMigrationFiles(["0001_a.sql": "CREATE TABLE a (id int);\n", "0002_b.sql": "CREATE TABLE b (id int);\n"]) { library async throws in
            try await withMigrationFiles(["0001_widgets.sql": "CREATE TABLE widgets (a_id int);\n"]) { app async throws in
                try await TestDatabase.with { db async throws in
                    let migrator = Migrator(sources: [MigrationSource(tenantKitDirectory: library), .app(app)])
                    let first = try await migrator.up(configuration: db.configuration)
                    #expect(first.applied.map(\.displayName) == ["0001_a.sql", "0002_b.sql", "app/0001_widgets.sql"])

                    try writeFile(library, "0003_c.sql", "CREATE TABLE c (id int);\n")
                    try writeFile(app, "0002_gadgets.sql", "CREATE TABLE gadgets (c_id int);\n")
                    let status = try await migrator.status(configuration: db.configuration)
                    #expect(status.migrations.map(\.displayName)
                        == ["0001_a.sql", "0002_b.sql", "0003_c.sql", "app/0001_widgets.sql", "app/0002_gadgets.sql"])
                    #expect(status.pending.map(\.displayName) == ["0003_c.sql", "app/0002_gadgets.sql"])
                    let second = try await migrator.up(configuration: db.configuration)
                    #expect(second.applied.map(\.displayName) == ["0003_c.sql", "app/0002_gadgets.sql"])
                    #expect(second.alreadyApplied == 3)

                    struct Row: Decodable, Equatable { let source: String; let version: Int; let name: String }
                    let rows = try await withConnection(db.configuration) { conn in
                        try await conn.fetchAll("SELECT source, version, name FROM public.schema_migrations ORDER BY source, version", as: Row.self)
                    }
                    #expect(rows == [Row(source: "app", version: 1, name: "widgets"), Row(source: "app", version: 2, name: "gadgets"),
                                     Row(source: "tenantkit", version: 1, name: "a"), Row(source: "tenantkit", version: 2, name: "b"),
                                     Row(source: "tenantkit", version: 3, name: "c")])
                    // A migrator of TenantKit's source alone leaves the application's rows alone: no drift.
                    let library0 = try await Migrator(directory: library).verify(configuration: db.configuration)
                    #expect(library0.isUpToDate)
                }
            }
        }
    }

    @Test func aTrackingTableOfBeforeSourcesIsUpgradedInPlace() async throws {
        let a = "CREATE TABLE a (id int);\n"
        try await withMigrationFiles(["0001_a.sql": a, "0002_b.sql": "CREATE TABLE b (id int);\n"]) { directory async throws in
            try await TestDatabase.with { db async throws in
                try await withConnection(db.configuration) { conn async throws in
                    try await conn.executeScript(unsafeSQL: """
                        CREATE TABLE a (id int);
                        CREATE TABLE public.schema_migrations (
                            version bigint NOT NULL PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint NOT NULL);
                        INSERT INTO public.schema_migrations (version, name, checksum, duration_ms) VALUES (1, 'a', '\(SHA256.hex(Array(a.utf8)))', 3)
                        """)
                }
                let migrator = Migrator(directory: directory)
                #expect(try await migrator.status(configuration: db.configuration).pending.map(\.fileName) == ["0002_b.sql"])
                let run = try await migrator.up(configuration: db.configuration)
                #expect(run.applied.map(\.fileName) == ["0002_b.sql"])
                try await withConnection(db.configuration) { conn async throws in
                    let key = try await conn.fetchOne("""
                        SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                        FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                        WHERE i.indrelid = 'public.schema_migrations'::regclass AND i.indisprimary
                        """, as: String.self)
                    #expect(key == "source,version")
                    #expect(try await conn.fetchAll("SELECT source || '/' || version FROM public.schema_migrations ORDER BY version", as: String.self)
                        == ["tenantkit/1", "tenantkit/2"])
                }
            }
        }
    }

    @Test func aMissingOrGappedApplicationSourceIsNamedWithWhereItLooked() async throws {
        try await withMigrationFiles(["0001_a.sql": "SELECT 1;\n"]) { library async throws in
            let missing = try await expectMigrationError {
                try Migrator(sources: [MigrationSource(tenantKitDirectory: library), .app("/nonexistent/tk-app-migrations")]).migrations()
            }
            #expect(missing.kind == .directoryNotFound)
            #expect(missing.message == "migrations directory /nonexistent/tk-app-migrations (source app) does not exist: looked in /nonexistent/tk-app-migrations")

            try await withMigrationFiles(["0001_a.sql": "SELECT 1;\n", "0003_c.sql": "SELECT 3;\n"]) { app async throws in
                let gap = try await expectMigrationError { try Migrator(sources: [MigrationSource(tenantKitDirectory: library), .app(app)]).migrations() }
                #expect(gap.kind == .invalidDirectory)
                #expect(gap.message.hasPrefix("migrations in \(app) are not valid"))
                #expect(gap.problems.map(\.description) == ["gap in versions: 0002 missing (versions must run 0001, 0002, ... without holes)"])
            }
        }
        let reserved = try await expectMigrationError { try MigrationSource(name: "tenantkit", directory: "x") }
        #expect(reserved.kind == .invalidName)
        let badName = try await expectMigrationError { try MigrationSource(name: "My App", directory: "x") }
        #expect(badName.message == "a migration source name is lowercase letters, digits and _, not \"My App\"")
    }

    @Test func newMigrationsGoToTheApplicationsDirectoryNumberedOnTheirOwn() async throws {
        try await withMigrationFiles([:]) { root async throws in
            let app = root + "/Migrations"
            let migrator = Migrator(sources: [.tenantKit, .app(app)])
            let first = try migrator.createMigration(named: "Add widgets")
            let second = try migrator.createMigration(named: "add gadgets")
            #expect(first == app + "/0001_add_widgets.sql")
            #expect(second == app + "/0002_add_gadgets.sql")
            let bundled = try FileManager.default.contentsOfDirectory(atPath: MigrationSource.tenantKit.directory).filter { $0.hasSuffix(".sql") }
            #expect(try migrator.migrations().filter { $0.source == "tenantkit" }.map(\.fileName) == bundled.sorted())
        }
    }
}

import Foundation
import Postgres
import Testing
import TenantKitTesting
@testable import Migrations

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
                    + "INSERT INTO public.schema_migrations (version, name, checksum, duration_ms) VALUES (1, 'a', '\(files[0].checksum)', <duration>);\nCOMMIT;\n\n"
                    + "-- 0002_a_index.sql\n-- (outside a transaction)\n"
                    + "-- tenantkit:no-transaction\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n;\n"
                    + "INSERT INTO public.schema_migrations (version, name, checksum, duration_ms) VALUES (2, 'a_index', '\(files[1].checksum)', <duration>);\n\n")
                try await withConnection(db.configuration) { conn async throws in
                    #expect(try await recordedVersions(conn) == nil)
                    #expect(try await relationExists(conn, "public.a") == false)
                }
            }
        }
    }
}

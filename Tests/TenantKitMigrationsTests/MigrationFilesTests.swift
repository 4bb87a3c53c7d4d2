import Foundation
import Testing
import TenantKitPostgres
@testable import TenantKitDoctor
@testable import TenantKitMigrations

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func blockBoundaries() {
        // 55, 56 and 64 bytes straddle the padding's length field.
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 55)) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 56)) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 64)) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }
}

@Suite struct SQLStatementSplitterTests {
    @Test func splitsOnTopLevelSemicolonsOnly() {
        let sql = """
            -- a comment; not a statement
            CREATE TABLE t (a text DEFAULT 'x;y', "we;ird" int);
            /* block; /* nested; */ still comment */
            INSERT INTO t VALUES (E'it\\'s; fine', 1);
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;
            DO $$ BEGIN PERFORM 1; END $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;
            SELECT $1
            """
        let statements = SQLStatementSplitter.split(sql)
        #expect(statements.map(\.line) == [2, 4, 5, 6, 7, 8])
        #expect(statements.map { $0.leadingWords.first ?? "" } == ["CREATE", "INSERT", "CREATE", "DO", "CREATE", "SELECT"])
        #expect(statements[4].text.hasSuffix("END; END"))
        #expect(statements[5].text == "SELECT $1")
    }

    @Test func lineAndColumnCountCharactersNotBytes() {
        let text = "SELECT 'é';\nSELECT * FROM\n  missing;"
        // Position 30 (1-based, in characters) is the "m" of "missing".
        let position = Array(text.unicodeScalars).firstIndex(of: "m")! + 1
        #expect(SQLStatementSplitter.lineAndColumn(ofPosition: position, in: text) == (3, 3))
    }
}

@Suite struct MigrationDirectoryTests {
    @Test func loadsFilesInVersionOrderWithChecksums() async throws {
        try await withMigrationFiles([
            "0002_second.sql": "SELECT 2;\n",
            "0001_first.sql": "SELECT 1;\n",
            "README.md": "not a migration",
        ]) { directory async throws in
            let migrations = try Migrator(directory: directory).migrations()
            #expect(migrations.map(\.fileName) == ["0001_first.sql", "0002_second.sql"])
            #expect(migrations.map(\.version) == [1, 2])
            #expect(migrations.map(\.name) == ["first", "second"])
            #expect(migrations[0].checksum == SHA256.hex(Array("SELECT 1;\n".utf8)))
            #expect(migrations.allSatisfy { $0.runsInTransaction })
        }
    }

    @Test func reportsBadNamesDuplicatesAndGapsTogether() async throws {
        try await withMigrationFiles([
            "0001_a.sql": "SELECT 1;",
            "0003_c.sql": "SELECT 3;",
            "0003_d.sql": "SELECT 3;",
            "0005_e.sql": "SELECT 5;",
            "12_short.sql": "SELECT 1;",
            "0004_Bad-Name.sql": "SELECT 1;",
        ]) { directory async throws in
            let error = try await expectMigrationError { _ = try Migrator(directory: directory).migrations() }
            #expect(error.kind == .invalidDirectory)
            #expect(error.problems.map(\.description) == [
                "0004_Bad-Name.sql is not named NNNN_name.sql (a version of at least four digits, an underscore, then lowercase letters, digits and underscores)",
                "12_short.sql is not named NNNN_name.sql (a version of at least four digits, an underscore, then lowercase letters, digits and underscores)",
                "duplicate version 3: 0003_c.sql, 0003_d.sql",
                "gap in versions: 0002, 0004 missing (versions must run 0001, 0002, ... without holes)",
            ])
            #expect(error.description.hasPrefix("migrations in \(directory) are not valid; nothing was run:"))
        }
    }

    @Test func checksDirectivesAndTransactionControl() async throws {
        try await withMigrationFiles([
            "0001_two_statements.sql": "-- tenantkit:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (a);\nSELECT 1;\n",
            "0002_unknown.sql": "-- tenantkit:fast\nSELECT 1;\n",
            "0003_commit.sql": "CREATE TABLE t (a int);\nCOMMIT;\n",
            "0004_fine.sql": "-- tenantkit:no-transaction\nCREATE INDEX CONCURRENTLY b ON t (a);\n",
        ]) { directory async throws in
            let error = try await expectMigrationError { _ = try Migrator(directory: directory).migrations() }
            #expect(error.problems.map(\.description) == [
                "0001_two_statements.sql is marked `-- tenantkit:no-transaction` and must hold exactly one statement; it holds 2",
                "0002_unknown.sql has an unknown directive `-- tenantkit:fast` (the only one is `-- tenantkit:no-transaction`)",
                "0003_commit.sql line 2: `COMMIT` is not allowed; each file already runs in its own transaction (start the file with `-- tenantkit:no-transaction` to run one statement outside a transaction)",
            ])
        }
    }

    @Test func realSchemaIsValid() throws {
        let migrations = try Migrator(directory: schemaDirectory).migrations()
        #expect(migrations.first?.fileName == "0001_roles.sql")
        #expect(migrations.map(\.version) == Array(1...migrations.count))
    }

    @Test func newCreatesTheNextNumberedFile() async throws {
        try await withMigrationFiles(["0001_first.sql": "SELECT 1;"]) { directory async throws in
            let migrator = Migrator(directory: directory)
            let path = try migrator.createMigration(named: "Add Widgets!")
            #expect(path == URL(fileURLWithPath: directory).appendingPathComponent("0002_add_widgets.sql").path)
            let migrations = try migrator.migrations()
            #expect(migrations.map(\.fileName) == ["0001_first.sql", "0002_add_widgets.sql"])
            #expect(migrations[1].sql.hasPrefix("SET LOCAL ROLE tenantkit_owner;\n"))

            let error = try await expectMigrationError { _ = try migrator.createMigration(named: "!!!") }
            #expect(error.kind == .invalidName)
        }
    }
}

@Suite struct PolicyExpressionTests {
    @Test func settingInsideSubSelectIsAnInitPlan() {
        #expect(!PolicyExpression.verifiesPerRow(
            "(org_id = ( SELECT (NULLIF(current_setting('tenantkit.org_id'::text, true), ''::text))::uuid AS \"nullif\"))"))
        #expect(!PolicyExpression.verifiesPerRow("(( SELECT current_setting('x'::text, true) AS current_setting) = 'on'::text)"))
        #expect(!PolicyExpression.verifiesPerRow("(org_id IS NULL)"))
        #expect(!PolicyExpression.verifiesPerRow("(name = 'current_setting(')"))
    }

    @Test func bareSettingIsPerRow() {
        #expect(PolicyExpression.verifiesPerRow(
            "(org_id = (NULLIF(current_setting('tenantkit.org_id'::text, true), ''::text))::uuid)"))
        #expect(PolicyExpression.verifiesPerRow(
            "((org_id IS NULL) OR (org_id = (pg_catalog.current_setting('x'::text))::uuid))"))
    }
}

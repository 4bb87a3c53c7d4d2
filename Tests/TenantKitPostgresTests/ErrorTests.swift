import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct ErrorTests {
    @Test func constraintViolationsCarrySQLStateAndConstraint() async throws {
        try await withConnection { c in
            try await c.executeScript(unsafeSQL: """
                CREATE TABLE parent (id int PRIMARY KEY);
                CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent,
                                    amount int CONSTRAINT amount_positive CHECK (amount > 0), note text NOT NULL DEFAULT '');
                INSERT INTO parent VALUES (1);
                """)
            let unique = await captureError(PostgresError.self) { try await c.execute("INSERT INTO parent VALUES (1)") }
            #expect(unique?.code == .uniqueViolation)
            #expect(unique?.constraint == "parent_pkey")
            #expect(unique?.table == "parent")
            #expect(unique?.detail?.contains("(id)=(1)") == true)

            let foreign = await captureError(PostgresError.self) { try await c.execute("INSERT INTO child VALUES (1, \(99), 1)") }
            #expect(foreign?.code == .foreignKeyViolation)
            #expect(foreign?.constraint == "child_parent_fkey")

            let check = await captureError(PostgresError.self) { try await c.execute("INSERT INTO child VALUES (1, 1, \(-5))") }
            #expect(check?.code == .checkViolation)
            #expect(check?.constraint == "amount_positive")

            let notNull = await captureError(PostgresError.self) { try await c.execute("INSERT INTO child VALUES (2, 1, 1, NULL)") }
            #expect(notNull?.code == .notNullViolation)
            #expect(notNull?.column == "note")

            let syntax = await captureError(PostgresError.self) { try await c.execute("SELEC 1") }
            #expect(syntax?.code == .syntaxError)
            #expect(syntax?.position == 1)
            #expect(syntax?.code.name == "syntax_error")
        }
    }

    @Test func defaultDescriptionLeaksNoValues() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE users (email text UNIQUE)")
            let email = "ceo@other-tenant.example"
            try await c.execute("INSERT INTO users VALUES (\(email))")
            let error = await captureError(PostgresError.self) { try await c.execute("INSERT INTO users VALUES (\(email))") }
            let text = "\(error.map(String.init(describing:)) ?? "")"
            #expect(text.contains("23505"))
            #expect(text.contains("users_email_key"))
            #expect(!text.contains(email))
            #expect(error?.detailedDescription.contains(email) == true)  // opt-in detail still has it
        }
    }

    @Test func serializationFailureIsReported() async throws {
        try await withTwoConnections { a, b in
            try await a.executeScript(unsafeSQL: "CREATE TABLE counter (n int); INSERT INTO counter VALUES (0);")
            let error = await captureError(PostgresError.self) {
                try await a.withTransaction(isolation: .serializable) { a in
                    _ = try await a.query("SELECT n FROM counter")
                    try await b.execute("UPDATE counter SET n = n + 1")
                    try await a.execute("UPDATE counter SET n = n + 1")
                }
            }
            #expect(error?.code == .serializationFailure)
            #expect(try await b.fetchOne("SELECT n FROM counter", as: Int32.self) == 1)
        }
    }

    @Test func errorInsideAPipelineLeavesTheConnectionUsable() async throws {
        try await withConnection { c in
            _ = await captureError(PostgresError.self) { try await c.query("SELECT 1/0") }
            let two = try await c.fetchOne("SELECT 2", as: Int32.self)
            #expect(two == 2)
        }
    }
}

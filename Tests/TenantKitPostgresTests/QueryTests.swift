import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct QueryTests {
    @Test func interpolationBecomesNumberedBinds() {
        let id = 42
        let name = "O'Brien; DROP TABLE users"
        let query: PostgresQuery = "SELECT * FROM users WHERE id = \(id) AND name = \(name) OR id = \(id)"
        #expect(query.sql == "SELECT * FROM users WHERE id = $1 AND name = $2 OR id = $3")
        #expect(query.binds.count == 3)
        #expect(query.binds.types == [.int8, .text, .int8])
    }

    @Test func identifiersAreQuoted() {
        let table = "weird \"name"
        let query: PostgresQuery = "SELECT 1 FROM \(identifier: table)"
        #expect(query.sql == #"SELECT 1 FROM "weird ""name""#)
        #expect(query.binds.count == 0)
    }

    @Test func queriesKnowWhetherTheirTextIsStatic() {
        let name = "users"
        let literal: PostgresQuery = "SELECT 1"
        let bound: PostgresQuery = "SELECT * FROM t WHERE name = \(name)"
        let quoted: PostgresQuery = "SELECT 1 FROM \(identifier: name)"
        let raw: PostgresQuery = "SELECT 1 FROM \(unsafeRaw: name)"
        #expect(!literal.isDynamic && !bound.isDynamic && !quoted.isDynamic)
        #expect(raw.isDynamic)
        #expect(PostgresQuery(unsafeSQL: "SELECT 1").isDynamic)
    }

    @Test func printingRedactsBindValues() {
        let secret = "tenant-secret-value"
        let query: PostgresQuery = "SELECT \(secret)"
        #expect(!"\(query)".contains(secret))
        #expect("\(query)".contains("redacted"))
    }

    @Test func injectionAttemptsAreData() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE notes (body text)")
            let hostile = "x'); DROP TABLE notes; --"
            try await c.execute("INSERT INTO notes VALUES (\(hostile))")
            #expect(try await c.fetchAll("SELECT body FROM notes", as: String.self) == [hostile])
        }
    }

    @Test func pipelineReturnsResultsInOrderInOneRoundTrip() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int PRIMARY KEY)")
            let before = c.roundTrips
            let results = try await c.pipeline([
                "INSERT INTO t VALUES (1), (2)",
                "SELECT id FROM t ORDER BY id",
                "UPDATE t SET id = id + 10 WHERE id = \(2)",
                "SELECT count(*) FROM t",
            ])
            #expect(c.roundTrips - before == 1)
            #expect(results.count == 4)
            #expect(results[0].affectedRows == 2)
            #expect(try results[1].map { try $0.decode(Int32.self, at: 0) } == [1, 2])
            #expect(results[2].affectedRows == 1)
            #expect(try results[3][0].decode(Int.self, at: 0) == 2)
        }
    }

    @Test func pipelineErrorNamesTheFailingStatementAndKeepsTheConnection() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int PRIMARY KEY)")
            let error = await captureError(PostgresError.self) {
                try await c.pipeline(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (3)"])
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.statementIndex == 1)
            #expect(error?.constraint == "t_pkey")
            // A pipeline is one implicit transaction: the statement before the failure was rolled back too.
            #expect(try await c.fetchAll("SELECT id FROM t ORDER BY id", as: Int32.self) == [])
        }
    }

    @Test func preparedStatementsAreCachedBySQLText() async throws {
        try await withConnection(statementCacheCapacity: 2) { c in
            let start = c.statementsPrepared
            for i in 0..<5 { _ = try await c.query("SELECT \(i)::int8 + 1") }
            #expect(c.statementsPrepared - start == 1)
            _ = try await c.query("SELECT \(1)::int8 + 2")
            _ = try await c.query("SELECT \(1)::int8 + 3")  // evicts "+ 1" (capacity 2)
            _ = try await c.query("SELECT \(1)::int8 + 1")
            #expect(c.statementsPrepared - start == 4)
            let onServer = try await c.fetchOne("SELECT count(*) FROM pg_prepared_statements", as: Int.self)
            #expect(onServer <= 3)  // the two cached ones, plus this statement's own
        }
    }

    @Test func oneOffQueriesNeverEnterTheStatementCache() async throws {
        let literal: PostgresQuery = "SELECT 1"
        #expect(literal.isCached && !literal.uncached().isCached && !literal.uncached().isDynamic)
        #expect(PostgresQuery(unsafeSQL: "SELECT 1").uncached().isDynamic)
        try await withConnection { c in
            _ = try await c.query("SELECT \(1)::int8 AS warm")
            let (cached, prepared, trips) = (c.statementsCached, c.statementsPrepared, c.roundTrips)
            let onServer: PostgresQuery = "SELECT count(*) FROM pg_prepared_statements"
            let serverBefore = try await c.fetchOne(onServer, as: Int.self)
            for i in 0..<1000 {
                // A distinct text each time, still static (a quoted identifier), with a bind.
                let query: PostgresQuery = "SELECT \(i)::int8 AS \(identifier: "value_\(i)")"
                #expect(try await c.query(query.uncached())[0].decode(Int.self, at: 0) == i)
            }
            #expect(c.statementsCached == cached + 1)  // only the count query above
            #expect(c.statementsPrepared == prepared + 1)
            #expect(c.roundTrips - trips == 1001)
            #expect(try await c.fetchOne(onServer, as: Int.self) == serverBefore)
            #expect(!c.isTainted)
            // One-off statements mix with cached ones in one pipeline.
            let seven: PostgresQuery = "SELECT \(7)::int8", eight: PostgresQuery = "SELECT \(8)::int8", nine: PostgresQuery = "SELECT \(9)::int8"
            let mixed = try await c.pipeline([seven.uncached(), eight, nine.uncached()])
            #expect(try mixed.map { try $0[0].decode(Int.self, at: 0) } == [7, 8, 9])
        }
    }

    @Test func staleCachedStatementsAreRepreparedTransparently() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (a int)")
            try await c.execute("INSERT INTO t VALUES (1)")
            _ = try await c.query("SELECT * FROM t")
            try await c.execute("ALTER TABLE t ADD COLUMN b text DEFAULT 'x'")
            let row = try await c.query("SELECT * FROM t")[0]
            #expect(try row.decode(String.self, column: "b") == "x")
            try await c.execute("DEALLOCATE ALL")  // the server forgets every prepared statement
            #expect(try await c.fetchOne("SELECT count(*) FROM t", as: Int.self) == 1)
        }
    }

    @Test func scriptsRunSeveralStatements() async throws {
        try await withConnection { c in
            try await c.executeScript(unsafeSQL: "CREATE TABLE a (x int); INSERT INTO a VALUES (1), (2);")
            #expect(try await c.fetchOne("SELECT sum(x)::int8 FROM a", as: Int.self) == 3)
        }
    }

    @Test func fetchOneWithoutRowsIsAClearError() async throws {
        try await withConnection { c in
            let error = await captureError(PostgresClientError.self) { try await c.fetchOne("SELECT 1 WHERE false", as: Int.self) }
            #expect(error?.kind == .noRows)
            let none = try await c.fetchOptional("SELECT 1 WHERE false", as: Int.self)
            #expect(none == nil)
        }
    }
}

/// A connection with a small statement cache.
func withConnection<T>(statementCacheCapacity cacheCapacity: Int, _ body: (PostgresConnection) async throws -> T) async throws -> T {
    try await withConnection { plain in
        let c = try await PostgresConnection.connect(plain.configuration, statementCacheCapacity: cacheCapacity)
        defer { Task { await c.close() } }
        return try await body(c)
    }
}

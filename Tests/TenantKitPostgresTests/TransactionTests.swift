import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

struct Boom: Error {}

@Suite struct TransactionTests {
    @Test func commitsWhenTheBodyReturns() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int)")
            let value = try await c.withTransaction { tx in
                try await tx.execute("INSERT INTO t VALUES (1)")
                return try await tx.fetchOne("SELECT count(*) FROM t", as: Int.self)
            }
            #expect(value == 1)
            #expect(try await c.fetchOne("SELECT count(*) FROM t", as: Int.self) == 1)
        }
    }

    @Test func rollsBackWhenTheBodyThrows() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int)")
            await #expect(throws: Boom.self) {
                try await c.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            #expect(try await c.fetchOne("SELECT count(*) FROM t", as: Int.self) == 0)
            #expect(c.isUsable)
        }
    }

    @Test func rollsBackWhenAStatementFails() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int PRIMARY KEY)")
            let error = await captureError(PostgresError.self) {
                try await c.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (1)")
                    try await tx.execute("INSERT INTO t VALUES (1)")
                }
            }
            #expect(error?.code == .uniqueViolation)
            #expect(try await c.fetchOne("SELECT count(*) FROM t", as: Int.self) == 0)
        }
    }

    @Test func preludeRidesWithTheFirstStatement() async throws {
        try await withConnection { c in
            let before = c.roundTrips
            let setting = try await c.withTransaction(prelude: ["SELECT set_config('tk.test', \("on"), true)"]) { tx in
                try await tx.fetchOne("SELECT current_setting('tk.test')", as: String.self)
            }
            #expect(setting == "on")
            #expect(c.roundTrips - before == 2)  // BEGIN+prelude+statement, then COMMIT
            let after = try await c.fetchOne("SELECT coalesce(current_setting('tk.test', true), '')", as: String.self)
            #expect(after == "")  // transaction-local: gone after commit
        }
    }

    @Test func nestedTransactionIsRefused() async throws {
        try await withConnection { c in
            let error = await captureError(PostgresClientError.self) {
                try await c.withTransaction { _ in try await c.withTransaction { _ in } }
            }
            #expect(error?.kind == .transactionInProgress)
        }
    }

    @Test func rollsBackWhenTheTaskIsCancelled() async throws {
        try await withTwoConnections { c, observer in
            try await c.execute("CREATE TABLE t (id int)")
            let task = Task {
                try await c.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (1)")
                    try await tx.execute("SELECT pg_sleep(30) /* tx-cancel-marker */")
                }
            }
            while try await !isRunning("tx-cancel-marker", on: observer) { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await c.fetchOne("SELECT count(*) FROM t", as: Int.self) == 0)
            #expect(try await observer.fetchOne("SELECT count(*) FROM t", as: Int.self) == 0)
        }
    }

    @Test func cancellingTheFirstStatementLeavesTheConnectionClean() async throws {
        try await withTwoConnections { c, observer in
            let task = Task {
                try await c.withTransaction(prelude: ["SELECT set_config('tk.test', \("leftover"), true)"]) { tx in
                    try await tx.execute("SELECT pg_sleep(30) /* tx-cancel-marker-2 */")
                }
            }
            while try await !isRunning("tx-cancel-marker-2", on: observer) { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // Rolled back, no queued BEGIN or setting left: the next statement runs on its own.
            let setting = try await c.fetchOne("SELECT coalesce(current_setting('tk.test', true), '')", as: String.self)
            #expect(setting == "")
            #expect(c.isUsable)
        }
    }

    @Test func aCaughtStatementErrorAbortsTheTransactionLoudly() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int PRIMARY KEY)")
            let error = await captureError(PostgresClientError.self) {
                try await c.withTransaction { tx -> Int in
                    try await tx.execute("INSERT INTO t VALUES (1)")
                    _ = try? await tx.execute("INSERT INTO t VALUES (1)")  // swallowed: the server aborted the transaction
                    return 42
                }
            }
            #expect(error?.kind == .transactionAborted)
            #expect(try await c.fetchOne("SELECT count(*) FROM t", as: Int.self) == 0)
            #expect(c.isUsable)
        }
    }
}

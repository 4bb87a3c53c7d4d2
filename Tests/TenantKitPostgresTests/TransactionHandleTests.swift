import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// A transaction owns its handle: nothing else sent on its connection can join it.
@Suite struct TransactionHandleTests {
    /// Two tasks on one connection (finding 12 of issue 10): org A's transaction is open, another
    /// task asks for the transaction-local setting and the uncommitted row.
    @Test func aStatementFromAnotherTaskIsRefusedAndSeesNothingOfTheTransaction() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (org text)")
            let probe: PostgresQuery = "SELECT coalesce(current_setting('tk.org', true), '') AS org, (SELECT count(*) FROM t) AS n"
            struct Seen: Decodable, Equatable { let org: String; let n: Int }

            let refused = try await c.withTransaction(prelude: ["SELECT set_config('tk.org', 'A', true)"]) { tx in
                // Before the body's first statement BEGIN and the prelude wait to be sent: they must not go with another task's statement.
                let early = await Task { try await c.fetchOne(probe, as: Seen.self) }.result
                try await tx.execute("INSERT INTO t VALUES ('A')")
                let late = await Task { try await c.fetchOne(probe, as: Seen.self) }.result
                #expect(try await tx.fetchOne(probe, as: Seen.self) == Seen(org: "A", n: 1))
                return [kind(of: early), kind(of: late)]
            }
            #expect(refused == [.transactionInProgress, .transactionInProgress])
            // Outside the transaction the same statement runs on its own: committed row, no setting.
            #expect(try await c.fetchOne(probe, as: Seen.self) == Seen(org: "", n: 1))
            #expect(c.isUsable)
        }
    }

    @Test func aRefusedStatementDoesNotJoinTheTransaction() async throws {
        try await withConnection { c in
            try await c.execute("CREATE TABLE t (id int)")
            let before = c.roundTrips
            await #expect(throws: Boom.self) {
                try await c.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (1)")
                    let other = await Task { try await c.execute("INSERT INTO t VALUES (2)") }.result
                    #expect(kind(of: other) == .transactionInProgress)
                    throw Boom()
                }
            }
            #expect(c.roundTrips - before == 2)  // BEGIN+INSERT, ROLLBACK: the refused INSERT sent nothing
            #expect(try await c.fetchAll("SELECT id FROM t", as: Int32.self) == [])
        }
    }

    @Test func theConnectionsOwnVerbsAreRefusedInsideTheBody() async throws {
        try await withConnection { c async throws in
            let error = await captureError(PostgresClientError.self) {
                try await c.withTransaction { tx async throws -> Int in
                    try await tx.execute("SELECT 1")
                    return try await tx.connection.execute("SELECT 2")
                }
            }
            #expect(error?.kind == .transactionInProgress)
            #expect(try await c.fetchOne("SELECT 3", as: Int32.self) == 3)  // rolled back and free again
        }
    }

    @Test func aHandleKeptPastItsTransactionIsRefused() async throws {
        try await withConnection { c in
            let kept = try await c.withTransaction { tx in
                try await tx.execute("SELECT 1")
                return tx
            }
            let afterward = await captureError(PostgresClientError.self) { try await kept.execute("SELECT 2") }
            #expect(afterward?.kind == .transactionEnded)
            // Nor can it slip into a later transaction on the same connection.
            let during = try await c.withTransaction { tx in
                try await tx.execute("SELECT 3")
                return await captureError(PostgresClientError.self) { try await kept.execute("SELECT 4") }
            }
            #expect(during?.kind == .transactionEnded)
        }
    }

    @Test func poolTransactionsHandOutTheHandle() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let (inside, pid) = try await pool.withTransaction(prelude: ["SELECT set_config('tk.org', 'A', true)"]) { tx in
                (try await tx.fetchOne("SELECT current_setting('tk.org')", as: String.self), tx.connection.backendPID)
            }
            #expect(inside == "A")
            let (outside, samePID) = try await pool.withConnection { c in
                (try await c.fetchOne("SELECT coalesce(current_setting('tk.org', true), '')", as: String.self), c.backendPID)
            }
            #expect(outside == "")
            #expect(samePID == pid)
            await pool.close()
        }
    }
}

/// The kind of the client error a task failed with, or nil.
private func kind<T>(of result: Result<T, any Error>) -> PostgresClientError.Kind? {
    guard case .failure(let error as PostgresClientError) = result else { return nil }
    return error.kind
}

import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct CancellationTests {
    @Test func cancellingTheTaskCancelsTheQueryOnTheServer() async throws {
        try await withTwoConnections { c, observer in
            let task = Task { try await c.query("SELECT pg_sleep(30) /* cancel-marker-1 */") }
            while try await !isRunning("cancel-marker-1", on: observer) { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // The server stopped it (a client-side abandon would leave it sleeping for 30 s).
            #expect(try await !isRunning("cancel-marker-1", on: observer))
            #expect(try await c.fetchOne("SELECT 'usable'", as: String.self) == "usable")
        }
    }

    @Test func aTaskCancelledBeforeItStartsSendsNothing() async throws {
        try await withConnection { c in
            let before = c.roundTrips
            let task = Task {
                try await Task.sleep(for: .seconds(30))
                return try await c.query("SELECT 1")
            }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(c.roundTrips == before)
        }
    }

    @Test func cancellingAPipelineStopsIt() async throws {
        try await withTwoConnections { c, observer in
            try await c.execute("CREATE TABLE t (id int)")
            let task = Task {
                try await c.pipeline(["INSERT INTO t VALUES (1)", "SELECT pg_sleep(30) /* cancel-marker-2 */", "INSERT INTO t VALUES (2)"])
            }
            while try await !isRunning("cancel-marker-2", on: observer) { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // The pipeline ran as one implicit transaction: its first insert was rolled back.
            #expect(try await c.fetchAll("SELECT id FROM t", as: Int32.self) == [])
        }
    }

    @Test func aServerSideTimeoutIsAnErrorNotACancellation() async throws {
        try await withConnection { c in
            try await c.execute("SET statement_timeout = 50")
            let error = await captureError(PostgresError.self) { try await c.query("SELECT pg_sleep(5)") }
            #expect(error?.code == .queryCanceled)
            try await c.execute("RESET statement_timeout")
            #expect(try await c.fetchOne("SELECT 1", as: Int32.self) == 1)
        }
    }
}

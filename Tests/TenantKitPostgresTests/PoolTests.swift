import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct PoolTests {
    @Test func reusesConnections() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 2)
            var pids = Set<Int32>()
            for _ in 0..<10 { pids.insert(try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)) }
            #expect(pids.count == 1)
            #expect(await pool.openConnections == 1)
            await pool.close()
        }
    }

    @Test func neverOpensMoreThanTheMaximum() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 3)
            try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<12 { group.addTask { try await pool.fetchOne("SELECT pg_backend_pid() FROM pg_sleep(0.05)", as: Int32.self) } }
                var pids = Set<Int32>()
                for try await pid in group { pids.insert(pid) }
                #expect(pids.count <= 3)
            }
            #expect(await pool.openConnections <= 3)
            await pool.close()
        }
    }

    @Test func exhaustionTimesOutWithAClearError() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1, acquireTimeout: .milliseconds(200))
            let holder = Task { try await pool.withConnection { c in try await c.execute("SELECT pg_sleep(2)") } }
            try await Task.sleep(for: .milliseconds(100))
            let error = await captureError(PostgresClientError.self) { try await pool.execute("SELECT 1") }
            #expect(error?.kind == .poolTimeout)
            #expect(error?.message.contains("1 pooled connection") == true || error?.message.contains("all 1") == true)
            _ = try await holder.value
            #expect(try await pool.fetchOne("SELECT 7", as: Int32.self) == 7)  // recovered
            await pool.close()
        }
    }

    @Test func aKilledConnectionIsReplacedAndNeverSeenTwice() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let killer = try await db.connect()
            let first = try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)
            #expect(try await killer.fetchOne("SELECT pg_terminate_backend(\(first))", as: Bool.self))
            while try await killer.fetchOne("SELECT count(*) FROM pg_stat_activity WHERE pid = \(first)", as: Int.self) > 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            // The idle connection is found dead when leased, so this call does not fail.
            let second = try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)
            #expect(second != first)
            #expect(await pool.openConnections == 1)
            await killer.close()
            await pool.close()
        }
    }

    @Test func aConnectionKilledMidQueryFailsThatCallOnly() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let killer = try await db.connect()
            let victim = Task { try await pool.query("SELECT pg_sleep(30) /* pool-kill-marker */") }
            while try await !isRunning("pool-kill-marker", on: killer) { try await Task.sleep(for: .milliseconds(20)) }
            _ = try await killer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pool-kill-marker */'")
            let error = await captureError(PostgresClientError.self) { try await victim.value }
            #expect(error?.kind == .connectionClosed)
            #expect(try await pool.fetchOne("SELECT 1", as: Int32.self) == 1)
            await killer.close()
            await pool.close()
        }
    }

    @Test func transactionsThroughThePoolCommitAndRollBack() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 2)
            try await pool.execute("CREATE TABLE t (id int)")
            _ = try await pool.withTransaction { tx in try await tx.execute("INSERT INTO t VALUES (1)") }
            await #expect(throws: Boom.self) {
                try await pool.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(try await pool.fetchAll("SELECT id FROM t", as: Int32.self) == [1])
            await pool.close()
        }
    }

    @Test func closedPoolRefusesWork() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool()
            await pool.close()
            let error = await captureError(PostgresClientError.self) { try await pool.execute("SELECT 1") }
            #expect(error?.kind == .poolClosed)
        }
    }
}

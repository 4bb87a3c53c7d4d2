import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// No session state survives a lease: a connection that ran dynamic text is reset before anyone
/// else gets it, and one that did not pays nothing.
@Suite struct SessionResetTests {
    /// Everything an injection can leave on a session, as a superuser in a pool of one connection.
    @Test func aDynamicStatementLeavesNothingForTheNextLease() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let defaultPath = try await pool.fetchOne("SELECT current_setting('search_path')", as: String.self)
            let (attackerPID, attackerTrips) = try await pool.withConnection { c in
                for sql in [
                    "SET search_path = pg_temp, public",
                    "LISTEN x",
                    "SELECT pg_advisory_lock(42)",
                    "PREPARE attacker_plan AS SELECT 1",
                    "SELECT set_config('tenantkit.org_id', 'bbbbbbbb-0000-0000-0000-000000000002', false)",
                    "CREATE TEMP TABLE memberships (org_id uuid, role text)",
                ] {
                    _ = try await c.query(PostgresQuery(unsafeSQL: sql))
                }
                _ = try await c.withTransaction { tx in
                    try await tx.execute(PostgresQuery(unsafeSQL: "DECLARE attacker_cursor CURSOR WITH HOLD FOR SELECT 1"))
                }
                #expect(c.isTainted)
                #expect(try await c.fetchOne("SELECT count(*) FROM pg_listening_channels()", as: Int.self) == 1)  // it all took
                return (c.backendPID, c.roundTrips)
            }

            struct Leftovers: Decodable, Equatable {
                let searchPath: String
                let orgSetting: String
                let channels: Int
                let advisoryLocks: Int
                let preparedByHand: Int
                let tempTable: Bool
                let tempTables: Int
                let cursors: Int
            }
            let (seen, pid, trips, tainted) = try await pool.withConnection { c in
                let seen = try await c.fetchOne("""
                    SELECT current_setting('search_path') AS search_path,
                           coalesce(current_setting('tenantkit.org_id', true), '') AS org_setting,
                           (SELECT count(*) FROM pg_listening_channels()) AS channels,
                           (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,
                           (SELECT count(*) FROM pg_prepared_statements WHERE from_sql) AS prepared_by_hand,
                           to_regclass('pg_temp.memberships') IS NOT NULL AS temp_table,
                           (SELECT count(*) FROM pg_tables WHERE tablename = 'memberships') AS temp_tables,
                           (SELECT count(*) FROM pg_cursors WHERE name <> '') AS cursors
                    """, as: Leftovers.self)
                return (seen, c.backendPID, c.roundTrips, c.isTainted)
            }
            #expect(pid == attackerPID)  // the same connection, reset rather than replaced
            #expect(seen == Leftovers(
                searchPath: defaultPath, orgSetting: "", channels: 0, advisoryLocks: 0,
                preparedByHand: 0, tempTable: false, tempTables: 0, cursors: 0))
            #expect(trips - attackerTrips == 2)  // the reset (one round trip), then the query
            #expect(!tainted)
            await pool.close()
        }
    }

    /// `taintedConnections: .close` (for a Citus coordinator, whose worker connections outlive a
    /// `DISCARD ALL`): a tainted connection is closed, its backend gone, and the next lease gets a
    /// new one; a static lease still keeps its connection.
    @Test func aPoolThatClosesTaintedConnectionsNeverLeasesOneAgain() async throws {
        try await TestDatabase.with { db in
            let pool = PostgresPool(configuration: db.configuration, maxConnections: 1, taintedConnections: .close)
            let staticPID = try await pool.withConnection { c in
                _ = try await c.query("SELECT \(1)::int8")
                return c.backendPID
            }
            let taintedPID = try await pool.withConnection { c in
                #expect(c.backendPID == staticPID, "a static lease keeps its connection")
                _ = try await c.query(PostgresQuery(unsafeSQL: "SET work_mem = '7MB'"))
                #expect(c.isTainted)
                return c.backendPID
            }
            let (nextPID, workMem) = try await pool.withConnection { c in
                (c.backendPID, try await c.fetchOne("SELECT current_setting('work_mem')", as: String.self))
            }
            #expect(nextPID != taintedPID)
            #expect(workMem != "7MB")
            // The backend exits once it reads the close; give it up to two seconds.
            var remaining = 1
            for _ in 0..<40 where remaining > 0 {
                remaining = try await PostgresConnection.withConnection(db.configuration) {
                    try await $0.fetchOne("SELECT count(*)::int FROM pg_stat_activity WHERE pid = \(Int(taintedPID))", as: Int.self)
                }
                if remaining > 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(remaining == 0, "the tainted connection's backend has ended")
            await pool.close()
        }
    }

    @Test func aStaticLeaseCostsNothingExtra() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let (pid, trips) = try await pool.withConnection { c in
                _ = try await c.query("SELECT \(1)::int8")
                _ = try await c.withTransaction { tx in try await tx.execute("SELECT 2") }
                #expect(!c.isTainted)
                return (c.backendPID, c.roundTrips)
            }
            let (samePID, nextTrips) = try await pool.withConnection { c in (c.backendPID, c.roundTrips) }
            #expect(samePID == pid)
            #expect(nextTrips == trips)  // no reset on the way back or out
            await pool.close()
        }
    }

    @Test func aScriptTaintsTheConnectionToo() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            try await pool.withConnection { c in try await c.executeScript(unsafeSQL: "SET search_path = pg_temp; LISTEN y;") }
            #expect(try await pool.fetchOne("SELECT count(*) FROM pg_listening_channels()", as: Int.self) == 0)
            await pool.close()
        }
    }

    /// An attacker replaces the server's copy of one of the driver's cached statements.
    @Test func aReplacedCachedStatementNeverRunsForTheApp() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let genuine: PostgresQuery = "SELECT 'genuine'::text AS v WHERE \(true)"
            let sameLease = try await pool.withConnection { c in
                #expect(try await c.fetchOne(genuine, as: String.self) == "genuine")  // now cached
                let name = try await c.fetchOne(
                    "SELECT name FROM pg_prepared_statements WHERE statement = \(genuine.sql)", as: String.self)
                _ = try await c.query(PostgresQuery(unsafeSQL: "DEALLOCATE \(PostgresIdentifier(name))"))
                _ = try await c.query(PostgresQuery(unsafeSQL: "PREPARE \(PostgresIdentifier(name))(bool) AS SELECT 'attacker'::text"))
                // Later in the same lease the driver no longer trusts its cache.
                return try await c.fetchOne(genuine, as: String.self)
            }
            #expect(sameLease == "genuine")
            let (nextLease, cached, byHand) = try await pool.withConnection { c in
                let value = try await c.fetchOne(genuine, as: String.self)
                let byHand = try await c.fetchOne("SELECT count(*) FROM pg_prepared_statements WHERE from_sql", as: Int.self)
                return (value, c.statementsCached, byHand)
            }
            #expect(nextLease == "genuine")
            #expect(byHand == 0)
            #expect(cached == 2)  // the cache started afresh: only this lease's two statements
            await pool.close()
        }
    }

    @Test func aConnectionResetByHandIsCleanAndCachesAgain() async throws {
        try await withConnection { c in
            _ = try await c.query(PostgresQuery(unsafeSQL: "SET application_name = 'attacker'"))
            #expect(c.isTainted)
            let before = c.roundTrips
            try await c.resetSession()
            #expect(c.roundTrips - before == 1)
            #expect(!c.isTainted)
            #expect(c.statementsCached == 0)
            #expect(try await c.fetchOne("SELECT current_setting('application_name')", as: String.self) != "attacker")
            #expect(c.statementsCached == 1)
        }
    }

    @Test func resetIsRefusedInsideATransaction() async throws {
        try await withConnection { c in
            let error = await captureError(PostgresClientError.self) {
                _ = try await c.withTransaction { tx in
                    try await tx.execute("SELECT 1")
                    try await c.resetSession()
                }
            }
            #expect(error?.kind == .transactionInProgress)
        }
    }
}

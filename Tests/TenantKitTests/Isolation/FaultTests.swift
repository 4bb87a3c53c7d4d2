import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// A bad day: killed backends, timeouts, cancellation, a restarted server, an exhausted pool.
@Suite struct FaultTests {
    /// Debits in the concurrent-debit test (the 10,000), from `debitTasks` tasks; about one
    /// debit in 50 is followed by killing a random backend of the pool.
    static let concurrentDebits = 10_000
    static let debitTasks = 16

    @Test func aBackendKilledMidTransactionWritesNothingAndThePoolHeals() async throws {
        try await Iso.withTwoOrgs(maxConnections: 2) { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let ledger = CreditLedgerTable.table, audit = AuditLogTable.table
            let killer = try await db.connect()
            let victim = Task {
                try await scope.transaction { tx async throws in
                    try await tx.execute(Insert.into(ledger).values(ledger.amount.set(-7), ledger.reason.set("half"), ledger.idempotencyKey.set("half-1")))
                    try await tx.execute(Insert.into(audit).values(audit.action.set("half.written")))
                    try await tx.execute("SELECT pg_sleep(30) /* iso-kill-mid-tx */")
                }
            }
            try await Iso.waitUntilRunning("iso-kill-mid-tx", on: killer)
            #expect(try await killer.fetchOne(
                "SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%iso-kill-mid-tx */' AND pid <> pg_backend_pid()",
                as: Bool.self))
            let error = await Iso.error(PostgresClientError.self) { try await victim.value }
            #expect(error?.kind == .connectionClosed)

            // Nothing of the unit of work landed; the account, the ledger and the audit chain agree.
            #expect(try await scope.fetchOne("SELECT balance FROM ecu_accounts", as: Int64.self) == 95)
            #expect(try await scope.fetchOne("SELECT count(*) FROM ecu_ledger WHERE idempotency_key = 'half-1'", as: Int.self) == 0)
            #expect(try await scope.fetchOne("SELECT count(*) FROM audit_log", as: Int.self) == 2)  // the org's creation and the seed
            #expect(try await scope.fetchOne("SELECT tenantkit_audit_verify()", as: Int64?.self) == nil)
            // The pool replaced the dead connection: every slot works.
            try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<4 { group.addTask { try await pool.fetchOne("SELECT 1 FROM pg_sleep(0.05)", as: Int32.self) } }
                for try await one in group { #expect(one == 1) }
            }
            #expect(await pool.openConnections <= 2)
            await killer.close()
        }
    }

    @Test(arguments: ["statement timeout", "task cancellation"])
    func aWriteStoppedMidwayRollsBackAndTheConnectionIsReused(how: String) async throws {
        try await Iso.withTwoOrgs(maxConnections: 1) { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let ledger = CreditLedgerTable.table
            let pid = try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self)
            let work = Task {
                try await scope.transaction { tx async throws in
                    if how == "statement timeout" { try await tx.execute("SET LOCAL statement_timeout = '200ms'") }
                    try await tx.execute(Insert.into(ledger).values(ledger.amount.set(-9), ledger.reason.set("stopped"), ledger.idempotencyKey.set("stopped-1")))
                    try await tx.execute("SELECT pg_sleep(30) /* iso-stop-midway */")
                }
            }
            if how == "task cancellation" {
                try await Iso.withConnection(db.configuration) { try await Iso.waitUntilRunning("iso-stop-midway", on: $0) }
                work.cancel()
                _ = await Iso.error(CancellationError.self) { try await work.value }
            } else {
                let error = await Iso.error(PostgresError.self) { try await work.value }
                #expect(error?.code == .queryCanceled)
                #expect(error?.message == "canceling statement due to statement timeout")
            }
            #expect(try await scope.fetchOne("SELECT count(*) FROM ecu_ledger WHERE idempotency_key = 'stopped-1'", as: Int.self) == 0)
            #expect(try await scope.fetchOne("SELECT balance FROM ecu_accounts", as: Int64.self) == 95)
            #expect(try await pool.fetchOne("SELECT pg_backend_pid()", as: Int32.self) == pid)  // the same connection, reused
            #expect(try await pool.fetchOne("SHOW statement_timeout", as: String.self) == "0")
            // The same key now posts normally: the stopped attempt left no trace.
            let after = try await scope.fetchOne(
                Insert.into(ledger).values(ledger.amount.set(-9), ledger.reason.set("again"), ledger.idempotencyKey.set("stopped-1")).returning(ledger.balanceAfter),
                as: Int64.self)
            #expect(after == 86)
        }
    }

    @Test func concurrentDebitsWithRandomBackendKillsKeepTheBooksExact() async throws {
        try await Iso.withTwoOrgs(maxConnections: Self.debitTasks) { db, a, _, pool in
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let ledger = CreditLedgerTable.table
            // Enough credit for every debit; the overdraft path has its own test.
            let grant = Int64(Self.concurrentDebits) * 3
            // Granted the platform's way: an operator claim on an operator's login (the superuser here).
            let operators = db.makePool(maxConnections: 1)
            try await OrgScope(orgID: a.id, actor: .platformOperator(UUID()), context: TestDatabase.context, on: operators)
                .execute(Insert.into(ledger).values(ledger.amount.set(grant), ledger.reason.set("grant"), ledger.idempotencyKey.set("big-grant")))
            await operators.close()
            let start: Int64 = 95 + grant

            struct Outcome: Sendable {
                var succeeded: [String: Int64] = [:]
                var killedAttempts = 0
                /// Retries that found their key already posted: the killed attempt had committed.
                var appliedBeforeTheKill = 0
                var skippedWithoutARetry = 0
            }
            let killer = try await db.connect()
            let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for worker in 0..<Self.debitTasks {
                    group.addTask {
                        var outcome = Outcome()
                        for n in stride(from: worker, to: Self.concurrentDebits, by: Self.debitTasks) {
                            let key = "debit-\(n)"
                            let amount = Int64(1 + n % 3)
                            var retried = false
                            // A killed attempt's outcome is unknown (it may have committed just before the
                            // kill): retry with the same idempotency key until the database answers.
                            while true {
                                do {
                                    let posted = try await scope.fetchAll(
                                        Insert.into(ledger).values(ledger.amount.set(-amount), ledger.reason.set("run"), ledger.idempotencyKey.set(key))
                                            .returning(ledger.amount),
                                        as: Int64.self)
                                    if posted.isEmpty { retried ? (outcome.appliedBeforeTheKill += 1) : (outcome.skippedWithoutARetry += 1) }
                                    outcome.succeeded[key] = amount
                                    break
                                } catch let error as PostgresClientError where error.kind == .connectionClosed || error.kind == .connectionFailed {
                                    outcome.killedAttempts += 1
                                    retried = true
                                }
                            }
                            // About one debit in 50 is followed by killing a random backend of the pool
                            // (busy or idle, possibly mid-statement of another task).
                            if Int.random(in: 0..<50) == 0 {
                                _ = try await killer.fetchOne("""
                                    SELECT count(pg_terminate_backend(pid)) FROM (
                                        SELECT pid FROM pg_stat_activity
                                        WHERE usename = 'tenantkit_app' AND datname = current_database() ORDER BY random() LIMIT 1) victims
                                    """, as: Int.self)
                            }
                        }
                        return outcome
                    }
                }
                var total = Outcome()
                for try await part in group {
                    total.succeeded.merge(part.succeeded) { first, _ in first }
                    total.killedAttempts += part.killedAttempts
                    total.appliedBeforeTheKill += part.appliedBeforeTheKill
                    total.skippedWithoutARetry += part.skippedWithoutARetry
                }
                return total
            }
            await killer.close()

            struct Ledger: Decodable { let rows: Int; let keys: Int; let sum: Int64; let balance: Int64 }
            let books = try await scope.fetchOne("""
                SELECT count(*) AS rows, count(DISTINCT idempotency_key) AS keys,
                       coalesce(sum(-amount), 0)::bigint AS sum, (SELECT balance FROM ecu_accounts) AS balance
                FROM ecu_ledger WHERE idempotency_key LIKE 'debit-%'
                """, as: Ledger.self)
            let reported = outcome.succeeded.values.reduce(0, +)
            #expect(outcome.succeeded.count == Self.concurrentDebits)
            #expect(outcome.killedAttempts > 0, "backends were killed mid-work")
            #expect(outcome.skippedWithoutARetry == 0, "a fresh key was never skipped")
            #expect(books.rows == Self.concurrentDebits)
            #expect(books.keys == books.rows)  // no debit applied twice
            #expect(books.sum == reported)
            #expect(books.balance == start - reported)
            // The balance the trigger kept equals the ledger's own sum.
            #expect(try await scope.fetchOne("SELECT sum(amount)::bigint FROM ecu_ledger", as: Int64.self) == books.balance)
        }
    }

    @Test func aRestartedServerServesTheNextCallsOnceItIsBack() async throws {
        let server = try await EmbeddedPostgres.start()
        defer { server.stop() }
        let pool = PostgresPool(configuration: server.configuration, maxConnections: 3, acquireTimeout: .seconds(30))
        try await pool.execute("CREATE TABLE kept (n int)")
        try await pool.execute("INSERT INTO kept VALUES (1)")
        let before = try await pool.fetchOne("SELECT pg_postmaster_start_time()::text", as: String.self)

        // A call in flight when the server goes down fails as a closed connection.
        let inFlight = Task { try await pool.execute("SELECT pg_sleep(30) /* iso-restart */") }
        try await Iso.withConnection(server.configuration) { try await Iso.waitUntilRunning("iso-restart", on: $0) }
        try await server.restart()
        let error = await Iso.error(PostgresClientError.self) { try await inFlight.value }
        #expect(error?.kind == .connectionClosed)

        // Idle pooled connections died with the old server: the pool drops them unseen.
        for _ in 0..<5 { #expect(try await pool.fetchAll("SELECT n FROM kept", as: Int32.self) == [1]) }
        #expect(try await pool.fetchOne("SELECT pg_postmaster_start_time()::text", as: String.self) != before)
        await pool.close()
    }

    @Test func anExhaustedPoolTimesOutCallersWithoutDeadlockAndRecovers() async throws {
        try await Iso.withTwoOrgs(maxConnections: 2) { db, a, _, _ in
            let pool = db.makePool(user: "tenantkit_app", maxConnections: 2, acquireTimeout: .milliseconds(300))
            let scope = OrgScope(orgID: a.id, actor: .user(a.userID), context: TestDatabase.context, on: pool)
            let gate = try await db.connect()
            // Two holders keep both connections busy until the gate's advisory lock is released.
            try await gate.execute("SELECT pg_advisory_lock(4242)")
            let holders = (0..<2).map { _ in
                Task { try await scope.fetchAll("SELECT org_id FROM runs, (SELECT pg_advisory_lock_shared(4242)) l /* iso-holder */", as: UUID.self) }
            }
            while try await gate.fetchOne("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", as: Int.self) < 2 {
                try await Task.sleep(for: .milliseconds(10))
            }
            // Everyone else waits the acquire timeout and gets the pool's error, concurrently.
            let errors = await withTaskGroup(of: PostgresClientError.Kind?.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await scope.fetchAll("SELECT org_id FROM runs", as: UUID.self)
                            return nil
                        } catch let error as PostgresClientError {
                            return error.kind
                        } catch {
                            return nil
                        }
                    }
                }
                var kinds: [PostgresClientError.Kind?] = []
                for await kind in group { kinds.append(kind) }
                return kinds
            }
            #expect(errors.count == 20 && errors.allSatisfy { $0 == .poolTimeout })

            try await gate.execute("SELECT pg_advisory_unlock(4242)")
            for holder in holders { #expect(try await holder.value == [a.id]) }
            // Recovered: both connections free again, nothing leaked or stuck. (Sequential, so a busy
            // machine cannot turn queueing behind the short acquire timeout into a false failure.)
            for _ in 0..<10 { #expect(try await scope.fetchAll("SELECT org_id FROM runs", as: UUID.self) == [a.id]) }
            #expect(await pool.openConnections <= 2)
            await gate.close()
            await pool.close()
        }
    }
}

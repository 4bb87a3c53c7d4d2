import Foundation
import TenantKitPostgres
import TenantKit
import Testing

@Suite struct CreditTests {
    @Test func debitsAreIdempotentAndNeverOverdraw() async throws {
        try await withWorld { w in
            let (_, s, acme) = try await w.founder("a@a.test", org: "Acme")
            let grant = try await w.asPlatform(s) { try await $0.credits.grant(100, reason: "welcome", idempotencyKey: "grant-1") }.value
            #expect(grant.balanceAfter == 100)
            let first = try await s.write { try await $0.credits.debit(30, reason: "work", idempotencyKey: "job-1") }.value
            let again = try await s.write { try await $0.credits.debit(30, reason: "work", idempotencyKey: "job-1") }.value
            #expect(first == again)
            #expect(await tenantError { try await w.asPlatform(s) { try await $0.credits.grant(30, reason: "oops", idempotencyKey: "job-1") } }
                == .alreadyExists("a debit with this idempotency key"))
            #expect(try await s.read { try await $0.credits.balance() }.value == 70)

            let ledgerBefore = try await w.count("ecu_ledger", org: acme)
            let auditBefore = try await w.count("audit_log", org: acme)
            #expect(await tenantError { try await s.write { try await $0.credits.debit(71, reason: "too much", idempotencyKey: "job-2") } }
                == .insufficientCredits(balance: 70, requested: 71))
            #expect(try await w.count("ecu_ledger", org: acme) == ledgerBefore)
            #expect(try await w.count("audit_log", org: acme) == auditBefore)
            #expect(try await s.read { try await $0.credits.balance() }.value == 70)
            for bad: Int64 in [0, -5] {
                #expect(await tenantError { try await s.write { try await $0.credits.debit(bad, reason: "x", idempotencyKey: "bad") } }
                    == .invalidInput("an amount must be between 1 and 1000000000000 ECU"))
            }
            let history = try await s.read { try await $0.credits.history().items }.value
            #expect(history.map(\.amount) == [-30, 100])
        }
    }

    @Test func concurrentDebitsNeitherLoseUpdatesNorGoNegative() async throws {
        try await withWorld { w in
            let (_, s, acme) = try await w.founder("a@a.test", org: "Acme")
            _ = try await w.asPlatform(s) { try await $0.credits.grant(1000, reason: "budget", idempotencyKey: "grant") }
            // 200 debits of 3 all fit; then 40 more of 10 race for the remaining 400 (exactly 40 fit)
            // while 20 of the first 200 are replayed with their keys.
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<200 {
                    group.addTask { await succeeded { _ = try await s.write { try await $0.credits.debit(3, reason: "job", idempotencyKey: "job-\(i)") } } }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0 })
            #expect(try await s.read { try await $0.credits.balance() }.value == 400)
            let racing = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<60 {
                    group.addTask { await succeeded { _ = try await s.write { try await $0.credits.debit(10, reason: "big", idempotencyKey: "big-\(i)") } } }
                }
                for i in 0..<20 {
                    group.addTask { await succeeded { _ = try await s.write { try await $0.credits.debit(3, reason: "job", idempotencyKey: "job-\(i)") } } }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(racing.filter { $0 }.count == 40 + 20)
            #expect(try await s.read { try await $0.credits.balance() }.value == 0)
            #expect(try await w.count("ecu_ledger", org: acme) == 1 + 200 + 40)
            let sum = try await w.admin.fetchOne("SELECT sum(amount)::int8 FROM ecu_ledger WHERE org_id = \(acme)", as: Int64.self)
            #expect(sum == 0)
            // Every posting wrote its audit entry; concurrent appends kept one unbroken chain.
            #expect(try await s.read { try await $0.audit.verifyChain() }.value == .intact(entries: 1 + 1 + 200 + 40))
        }
    }
}

@Suite struct RunTests {
    @Test func startingARunDebitsRecordsAndAuditsTogether() async throws {
        try await withWorld { w in
            let (ada, s, acme) = try await w.founder("a@a.test", org: "Acme")
            let item = try await s.write { try await $0.catalog.create(kind: "model", slug: "m", name: "M") }.value
            _ = try await w.asPlatform(s) { try await $0.credits.grant(10, reason: "budget", idempotencyKey: "g") }
            let run = try await s.write { try await $0.runs.start(itemID: item.id, cost: 4, idempotencyKey: "req-1") }.value
            #expect(run.status == .running && run.cost == 4 && run.userID == ada.id)
            let replay = try await s.write { try await $0.runs.start(itemID: item.id, cost: 4, idempotencyKey: "req-1") }.value
            #expect(replay.id == run.id)
            #expect(try await s.read { try await $0.credits.balance() }.value == 6)
            #expect(try await w.count("runs", org: acme) == 1)
            let ledger = try await s.read { try await $0.credits.entry(idempotencyKey: "req-1") }.value
            #expect(ledger?.runID == run.id && ledger?.amount == -4)

            // Too expensive: no run, no ledger row, no audit entry.
            let counts = (try await w.count("runs", org: acme), try await w.count("ecu_ledger", org: acme), try await w.count("audit_log", org: acme))
            #expect(await tenantError { try await s.write { try await $0.runs.start(itemID: item.id, cost: 7, idempotencyKey: "req-2") } }
                == .insufficientCredits(balance: 6, requested: 7))
            let after = (try await w.count("runs", org: acme), try await w.count("ecu_ledger", org: acme), try await w.count("audit_log", org: acme))
            #expect(counts == after)

            let done = try await s.write { try await $0.runs.finish(run.id) }.value
            #expect(done.status == .succeeded && done.finishedAt != nil)
            #expect(await tenantError { try await s.write { try await $0.runs.finish(run.id, error: "late") } }
                == .notFound("running run \(run.id)"))
            #expect(try await s.read { try await $0.audit.page().items }.value.prefix(2).map(\.action) == ["run.succeeded", "run.started"])
        }
    }

    @Test func anotherOrgsPrivateItemCannotBeRun() async throws {
        try await withWorld { w in
            let (_, a, _) = try await w.founder("a@a.test", org: "A")
            let (_, b, _) = try await w.founder("b@b.test", org: "B")
            let secret = try await a.write { try await $0.catalog.create(kind: "model", slug: "secret", name: "Secret") }.value
            _ = try await w.asPlatform(b) { try await $0.credits.grant(10, reason: "budget", idempotencyKey: "g") }
            #expect(await tenantError { try await b.write { try await $0.runs.start(itemID: secret.id, cost: 1, idempotencyKey: "x") } }
                == .notFound("catalog item \(secret.id)"))
        }
    }
}

@Suite struct AuditTests {
    @Test func filtersPagesAndVerifiesTheChain() async throws {
        try await withWorld { w in
            let (ada, s, acme) = try await w.founder("a@a.test", org: "Acme")
            for i in 0..<5 { _ = try await s.write { try await $0.catalog.create(kind: "model", slug: "m\(i)", name: "M\(i)") } }
            let created = try await s.read { try await $0.audit.page(AuditFilter(actorUserID: ada.id, action: "catalog.item_created"), limit: 3) }.value
            #expect(created.items.map(\.seq) == [6, 5, 4])
            let next = try #require(created.next)
            let rest = try await s.read { try await $0.audit.page(AuditFilter(action: "catalog.item_created"), after: next) }.value
            #expect(rest.items.map(\.seq) == [3, 2])
            #expect(rest.next == nil)
            #expect(try await s.read { try await $0.audit.page(AuditFilter(from: Date().addingTimeInterval(3600))) }.value.items.isEmpty)
            #expect(try await s.read { try await $0.audit.verifyChain() }.value == .intact(entries: 6))

            // Tampering needs a superuser who disables the append-only triggers; the chain shows where.
            try await w.admin.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            try await w.admin.execute("UPDATE audit_log SET target = 'forged' WHERE org_id = \(acme) AND seq = 4")
            try await w.admin.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
            #expect(try await s.read { try await $0.audit.verifyChain() }.value == .brokenAt(seq: 4))
        }
    }
}

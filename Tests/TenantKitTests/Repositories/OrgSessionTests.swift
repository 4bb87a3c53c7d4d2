import Foundation
import TenantKitPostgres
import TenantKit
import Testing

@Suite struct OrgSessionTests {
    @Test func aUserWithoutOrganizationsHasNoActiveOne() async throws {
        try await withWorld { w in
            let loner = try await w.store.createUser(email: "solo@x.test")
            let session = try await w.store.session(for: loner.id)
            #expect(await session.activeOrgID == nil)
            #expect(try await session.organizations().isEmpty)
            #expect(await tenantError { try await session.read { try await $0.catalog.page() } } == .noActiveOrganization)
        }
    }

    @Test func switchingChecksMembershipAndEveryViewFollows() async throws {
        try await withWorld { w in
            let (ada, s, acme) = try await w.founder("ada@x.test", org: "Acme")
            let beta = try await s.createOrganization(named: "Beta")
            let (_, _, foreign) = try await w.founder("eve@x.test", org: "Evil")
            #expect(try await s.organizations().map(\.name) == ["Acme", "Beta"])
            #expect(await s.activeOrgID == beta)
            _ = try await s.write { try await $0.catalog.create(kind: "model", slug: "beta-only", name: "Beta only") }
            _ = try await w.asPlatform(s) { try await $0.credits.grant(5, reason: "beta", idempotencyKey: "g") }

            #expect(await tenantError { try await s.switch(to: foreign) } == .notAMember(orgID: foreign))
            #expect(await s.activeOrgID == beta)
            try await s.switch(to: acme)
            let catalog = try await s.read { try await $0.catalog.page() }
            #expect(catalog.orgID == acme && catalog.value.items.isEmpty)
            #expect(try await s.read { try await $0.credits.balance() }.value == 0)
            #expect(try await s.read { try await $0.audit.page().items }.value.map(\.action) == ["organization.created"])
            #expect(try await s.read { try await $0.members.list() }.value.map(\.userID) == [ada.id])
        }
    }

    @Test func inFlightReadsAreReissuedAgainstTheNewOrganization() async throws {
        try await withWorld { w in
            let (_, s, acme) = try await w.founder("ada@x.test", org: "Acme")
            let beta = try await s.createOrganization(named: "Beta")
            try await s.switch(to: acme)
            // The read waits on an advisory lock the test holds, so it is surely in flight on the server.
            try await w.admin.execute("SELECT pg_advisory_lock(4242)")
            let reader = Task {
                try await s.read { org in
                    try await org.scope.fetchOne("SELECT name FROM organizations, pg_advisory_xact_lock_shared(4242) /* switch-read */", as: String.self)
                }
            }
            try await waitUntilWaiting("switch-read", w.admin)
            try await s.switch(to: beta)
            try await w.admin.execute("SELECT pg_advisory_unlock(4242)")
            let result = try await reader.value
            #expect(result == Scoped(orgID: beta, value: "Beta"))
        }
    }

    @Test func inFlightWritesFailAfterRollbackAndAreNotReplayed() async throws {
        try await withWorld { w in
            let (_, s, acme) = try await w.founder("ada@x.test", org: "Acme")
            let beta = try await s.createOrganization(named: "Beta")
            try await s.switch(to: acme)
            try await w.admin.execute("SELECT pg_advisory_lock(4343)")
            let writer = Task {
                try await s.write { org in
                    try await org.scope.transaction { tx in
                        _ = try await tx.execute("INSERT INTO catalog_items (kind, slug, name) VALUES ('model', 'half', 'Half written')")
                        _ = try await tx.execute("SELECT pg_advisory_xact_lock_shared(4343) /* switch-write */")
                    }
                }
            }
            try await waitUntilWaiting("switch-write", w.admin)
            try await s.switch(to: beta)
            try await w.admin.execute("SELECT pg_advisory_unlock(4343)")
            let error = await tenantError { try await writer.value }
            #expect(error == .orgSwitched(from: acme, to: beta))
            #expect(try await w.admin.fetchOne("SELECT count(*) FROM catalog_items WHERE slug = 'half'", as: Int.self) == 0)
        }
    }

    @Test func cancellingTheCallerCancelsTheWork() async throws {
        try await withWorld { w in
            let (_, s, _) = try await w.founder("ada@x.test", org: "Acme")
            let task = Task { try await s.read { try await $0.scope.execute("SELECT pg_sleep(30) /* caller-cancel */") } }
            while try await w.admin.fetchOne("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%caller-cancel */' AND state = 'active'", as: Int.self) == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
    }
}

/// Waits until a statement marked `marker` is blocked on a lock.
func waitUntilWaiting(_ marker: String, _ observer: PostgresConnection) async throws {
    let pattern = "%" + marker + " */%"
    while try await observer.fetchOne(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE \(pattern) AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        as: Int.self) == 0 {
        try await Task.sleep(for: .milliseconds(20))
    }
}

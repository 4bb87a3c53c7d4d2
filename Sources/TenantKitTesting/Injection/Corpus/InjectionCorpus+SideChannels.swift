import Foundation
import TenantKitPostgres
import TenantKit
import TenantSQL

extension InjectionCorpus {
    /// #13: what every backend of one shared role can do to the others: read their SQL text, kill
    /// them, block them with locks.
    static let sideChannels: [InjectionAttack] = [
        InjectionAttack(
            "pg_stat_activity shows the SQL text of B's requests",
            finding: .sameRoleSideChannels,
            attackers: [.viewerOfA],
            steps: [
                .swift("read pg_stat_activity while B's transaction is open", typed: [
                    "SELECT pid, usename, state, query FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
                ]) { context in
                    let victimPool = context.makePool()
                    let opened = InjectionGate(), done = InjectionGate()
                    // B's request, whose SQL text names one of B's values, kept open while A looks.
                    let victimRequest = Task {
                        try await context.victimScope(on: victimPool).transaction { tx in
                            _ = try await tx.query("SELECT count(*) FROM catalog_items WHERE name <> 'Doomsday Device (org B)'")
                            opened.open()
                            _ = await done.wait(upTo: .seconds(5))
                        }
                    }
                    defer { done.open() }
                    guard await opened.wait(upTo: .seconds(5)) else { return [] }
                    let rows = try await context.attackerScope().query(PostgresQuery(
                        unsafeSQL: "SELECT pid, usename, state, query FROM pg_stat_activity WHERE pid <> pg_backend_pid()"))
                    done.open()
                    _ = await victimRequest.result
                    return rows.map { row in (try? row.decode(String?.self, at: 3)).flatMap { $0 } ?? "" }
                },
            ]),
        InjectionAttack(
            "pg_terminate_backend kills B's pooled backend",
            finding: .sameRoleSideChannels,
            attackers: [.viewerOfA],
            expectation: .residual("one shared role: pg_terminate_backend works on every backend of tenantkit_app (issue 10, item 13)"),
            steps: [
                .swift("terminate every other backend of the role in this database", typed: [
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
                ]) { context in
                    let victimPool = context.makePool()
                    let pid = try await victimPool.withConnection { try await $0.fetchOne("SELECT pg_backend_pid()", as: Int32.self) }
                    _ = try await context.attackerScope().query(PostgresQuery(unsafeSQL: """
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE usename = current_user AND pid <> pg_backend_pid() AND datname = current_database()
                        """))
                    try await Task.sleep(for: .milliseconds(200))
                    let alive = try await context.asSuperuser { admin in
                        try await admin.fetchOne("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)", as: Int.self) > 0
                    }
                    if !alive { throw InjectionBreach("B's pooled backend \(pid) was terminated by org A") }
                    return []
                },
            ]),
        InjectionAttack(
            "a session advisory lock left on the pooled connection blocks B's domain verification",
            finding: .sameRoleSideChannels,
            attackers: [.viewerOfA],
            victimChecks: [victimDomainVerificationIsNotBlocked],
            steps: .statements("SELECT pg_advisory_lock(hashtextextended('tenantkit.email_domain:' || '{{b_domain}}', 0))")),
        // Before 0014 tenantkit_verify_org_domain waited on this advisory lock; it now serializes on
        // the claim's row, which the application has no privilege to lock.
        InjectionAttack(
            "a transaction advisory lock held during A's request blocks B's domain verification",
            finding: .sameRoleSideChannels,
            attackers: [.viewerOfA],
            steps: [
                .swift("hold the domain's advisory lock in A's transaction while B verifies", typed: [
                    "SELECT pg_advisory_xact_lock(hashtextextended('tenantkit.email_domain:' || '{{b_domain}}', 0))",
                ]) { context in
                    let victimPool = context.makePool()
                    let lock = context.sql("SELECT pg_advisory_xact_lock(hashtextextended('tenantkit.email_domain:' || '{{b_domain}}', 0))")
                    try await whileAttackerHolds([lock], context: context) {
                        try await verifyDomainOfB(context, on: victimPool)
                    } blocked: { "B's domain verification waited on an advisory lock org A held" }
                    return []
                },
            ]),
        InjectionAttack(
            "LOCK TABLE memberships in A's transaction blocks every org",
            finding: .sameRoleSideChannels,
            attackers: [.adminOfA],
            expectation: .residual("a table lock needs only a table privilege the app role must have (DELETE on memberships, to remove members); it blocks every org for the attacker's transaction"),
            steps: [
                .swift("hold an ACCESS EXCLUSIVE lock on memberships while B lists its members", typed: [
                    "LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE",
                ]) { context in
                    let victimPool = context.makePool()
                    try await whileAttackerHolds(["LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE"], context: context) {
                        _ = try await context.victim(on: victimPool).members.list()
                    } blocked: { "B's member list waited on a table lock org A held" }
                    return []
                },
            ]),
    ]

    /// B verifies its own (already verified) domain the way ``DomainRepository`` does (a new
    /// challenge, then the application's signed proof that it was found in DNS), in a transaction
    /// that is rolled back: only whether it has to wait matters.
    static func verifyDomainOfB(_ context: InjectionContext, on pool: PostgresPool) async throws {
        struct RollBack: Error {}
        let scope = context.victimScope(on: pool)
        guard let signer = scope.context as? SignedTenantContext else {
            throw InjectionBreach("the suite's scopes are not signed: B's domain verification cannot be tried")
        }
        let domain = InjectionWorld.Fixture.domainOfB, orgB = context.world.orgB.uuidString.lowercased()
        do {
            try await scope.transaction { tx in
                let challenge = try await tx.fetchOne("SELECT tenantkit_issue_domain_challenge(\(domain))", as: String.self)
                let proof = signer.key.proof(purpose: "domain", subject: "\(orgB):\(domain):\(challenge)")
                _ = try await tx.query("SELECT tenantkit_verify_org_domain(\(domain), \(challenge), \(proof))")
                throw RollBack()
            }
        } catch is RollBack {}
    }

    /// B's domain verification on a fresh pool does not wait on a lock someone left behind, and succeeds.
    static let victimDomainVerificationIsNotBlocked = InjectionVictimCheck("B's domain verification is not blocked") { context in
        let pool = context.makePool()
        do {
            guard try await within(blockingLimit, { try await verifyDomainOfB(context, on: pool) }) != nil else {
                return ["B's domain verification waited on a lock left on a pooled connection of org A"]
            }
        } catch {
            return ["B's domain verification failed: \(InjectionSuite.brief(error))"]
        }
        return []
    }
}

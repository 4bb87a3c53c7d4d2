import Foundation
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// Issue 10's injection suite: every attack of the corpus, run as SQL inside a legitimate scope of
/// its attacker, must be contained. Set `TENANTKIT_INJECTION_REPORT=<path>` to write the per-attack
/// report there, `TENANTKIT_INJECTION_FILTER=<text>` to run only attacks whose name contains it.
@Suite struct InjectionSuiteTests {
    /// The one place that knows how this build makes scopes and stores.
    static func suite(corpus: [InjectionAttack] = InjectionCorpus.all) -> InjectionSuite {
        var suite = InjectionSuite(
            makeScope: { org, actor, host in OrgScope(orgID: org, actor: actor, context: TestDatabase.context, on: host) },
            makeStore: { pool in TenantStore(pool: pool, key: .forTesting) },
            corpus: corpus)
        // The key every claim is signed with: no result or error may contain it, as hex or as bytes.
        let hex = Array(TenantContextKey.forTesting.hexSecret.utf8)
        let key = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        suite.extraSecrets = [InjectionSecret("the context signing key (TenantContextKey.forTesting)", .bytes(key))]
        return suite
    }

    @Test(.timeLimit(.minutes(10)))
    func everyInjectionIsContained() async throws {
        let filter = ProcessInfo.processInfo.environment["TENANTKIT_INJECTION_FILTER"] ?? ""
        let report = try await Self.suite().run { attack, _ in filter.isEmpty || attack.name.contains(filter) }
        if let path = ProcessInfo.processInfo.environment["TENANTKIT_INJECTION_REPORT"], !path.isEmpty {
            let details = report.results.map(\.description).joined(separator: "\n")
            try "\(report.table)\n\n\(report)\n\nEvery run:\n\(details)\n".write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(!report.results.isEmpty)
        try report.requireContained()
    }

    /// The same corpus against the portable (plpgsql) verifier, which servers without the
    /// extension use; `everyInjectionIsContained` runs against the native one where it is installed.
    @Test(.timeLimit(.minutes(10)))
    func everyInjectionIsContainedWithThePortableVerifier() async throws {
        let filter = ProcessInfo.processInfo.environment["TENANTKIT_INJECTION_FILTER"] ?? ""
        var suite = Self.suite()
        suite.template = .injectionWorldPortable
        let report = try await suite.run { attack, _ in filter.isEmpty || attack.name.contains(filter) }
        #expect(!report.results.isEmpty)
        try report.requireContained()
    }

    /// The suite's own detectors, against a corpus that breaches on purpose through the superuser:
    /// a scan that misses B's name or a snapshot that misses a change would pass any schema.
    @Test func theSuiteReportsWhatLeakedAndWhatChanged() async throws {
        let breaching = InjectionAttack("superuser reads and edits B", finding: .beyondTheReview, attackers: [.viewerOfA], steps: [
            .swift("read B's name and private item as a superuser") { context in
                try await context.asSuperuser { admin in
                    try await admin.fetchAll("SELECT name FROM organizations WHERE id = \(context.world.orgB)", as: String.self)
                }
            },
            .swift("rename B's private item as a superuser") { context in
                try await context.asSuperuser { admin in
                    _ = try await admin.execute("UPDATE catalog_items SET name = 'renamed' WHERE id = \(context.world.privateItemOfB)")
                }
                return []
            },
        ])
        let report = try await Self.suite(corpus: [breaching]).run()
        let result = try #require(report.results.first)
        #expect(result.leaks.contains { $0.contains(InjectionWorld.Fixture.nameOfB) })
        #expect(result.changes.contains { $0.section == "rows of other orgs and public rows in public.catalog_items" })
        #expect(!result.isContained && result.isFailure)
        let error = #expect(throws: InjectionContainmentError.self) { try report.requireContained() }
        #expect(error?.description.contains("superuser reads and edits B [own, viewer of A]: BREACHED") == true)
    }
}

import Foundation
import TenantKitPostgres
import TenantKit

/// Workload 7: an org switch while 50 reads (catalog pages through the repository) are in flight on
/// one `OrgSession`. The switch cancels them on the server and re-issues them against the new org;
/// one operation is the time from launching the 50 reads until all 50 answers, for the new org, are
/// delivered. The baseline is the same 50 reads launched fresh, with no switch.
struct OrgSwitchWorkload: Workload {
    let number = 7
    let title = "Org switch with 50 in-flight reads (catalog pages via OrgSession), until all re-issued results arrive"
    let defaultOpsPerRound = 40
    static let switching = "TenantKit OrgSession, 50 reads + switch"
    static let fresh = "TenantKit OrgSession, 50 fresh reads"

    var targets: [Target] {
        [Target(label: "switch with 50 in flight < 2x the fresh reads", contender: Self.switching, baseline: Self.fresh, minRatio: 0.5)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.small()
        return [
            try await SessionReads(name: Self.switching, db: db, switching: true, key: env.key),
            try await SessionReads(name: Self.fresh, db: db, switching: false, key: env.key),
        ]
    }
}

final class SessionReads: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = true
    let unitsPerOp = 50
    let note: String?
    private let pool: PostgresPool
    private let session: OrgSession
    private let switching: Bool
    private var flip = false

    init(name: String, db: BenchDatabase, switching: Bool, key: TenantContextKey) async throws {
        self.name = name
        self.switching = switching
        pool = PostgresPool(configuration: db.app, maxConnections: 8)
        session = try await TenantStore(pool: pool, key: key).session(for: BenchIDs.user, activeOrgID: BenchIDs.org(1))
        note = "50 x session.read { $0.catalog.page(limit: 50) } on a pool of 8 as \(appRole)"
            + (switching ? ", then session.switch(to:) the other of orgs 1 and 2" : "")
    }

    func runRound(ops: Int) async throws -> RoundSample {
        try await RoundSample.sequential(ops: ops) { _ in
            let session = self.session
            let target = BenchIDs.org(self.flip ? 1 : 2)
            let previous = BenchIDs.org(self.flip ? 2 : 1)
            let reads = (0..<50).map { _ in Task { try await session.read { try await $0.catalog.page(limit: 50) } } }
            if self.switching {
                await Task.yield()  // let the reads start
                try await session.switch(to: target)
                self.flip.toggle()
            }
            // A read may finish while switch(to:) checks membership, before the switch takes effect:
            // it then rightly answers for the old org (OrgSession returns a result only if its org is
            // still active when it arrives). Every other one answers for the new org.
            let active = await session.activeOrgID
            for read in reads {
                let page = try await read.value
                guard page.orgID == active || (self.switching && page.orgID == previous) else {
                    throw BenchError("a read answered for an organization that was not active")
                }
            }
        }
    }

    func tearDown() async { await pool.close() }
}

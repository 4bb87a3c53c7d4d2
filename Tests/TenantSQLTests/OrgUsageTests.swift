import Foundation
import TenantKitPostgres
@testable import TenantSQL
import TenantKitTesting
import Testing

@Suite struct OrgUsageTests {
    let o1 = UUID(uuidString: "00000000-0000-0000-0000-0000000000a1")!
    let o2 = UUID(uuidString: "00000000-0000-0000-0000-0000000000a2")!
    let o3 = UUID(uuidString: "00000000-0000-0000-0000-0000000000a3")!
    let o4 = UUID(uuidString: "00000000-0000-0000-0000-0000000000a4")!
    let o5 = UUID(uuidString: "00000000-0000-0000-0000-0000000000a5")!

    func entry(_ org: UUID, _ statements: Int, _ failures: Int, _ ms: Int, overcount: Int = 0) -> OrgUsageReport.Entry {
        OrgUsageReport.Entry(
            orgID: org, statements: statements, failures: failures,
            seconds: Double(ms) / 1000, overcountSeconds: Double(overcount) / 1000)
    }

    /// Five organizations in three slots: a newcomer takes the least-time slot and inherits its time
    /// as overcount; the report is ordered by time and never longer than the slots.
    @Test func moreOrganizationsThanSlotsKeepTheBusiestInFixedOrder() throws {
        let usage = try OrgUsage(slots: 3)
        usage.record(orgID: o1, statements: 1, duration: .milliseconds(50), failed: false)
        usage.record(orgID: o2, statements: 2, duration: .milliseconds(30), failed: false)
        usage.record(orgID: o3, statements: 1, duration: .milliseconds(10), failed: true)
        #expect(usage.top(10).entries == [entry(o1, 1, 0, 50), entry(o2, 2, 0, 30), entry(o3, 1, 1, 10)])

        usage.record(orgID: o4, statements: 1, duration: .milliseconds(5), failed: false)  // takes o3's slot
        usage.record(orgID: o5, statements: 4, duration: .milliseconds(1), failed: false)  // takes o4's (15 ms)
        usage.record(orgID: o2, statements: 1, duration: .milliseconds(40), failed: true)

        let report = usage.top(10)
        #expect(report.slots == 3)
        #expect(report.entries == [entry(o2, 3, 1, 70), entry(o1, 1, 0, 50), entry(o5, 4, 0, 16, overcount: 15)])
        #expect(usage.top(2).entries.map(\.orgID) == [o2, o1])
        #expect(usage.top(0).entries.isEmpty)
    }

    @Test func resetForgetsEveryOrganizationAndRestartsTheClock() throws {
        let usage = try OrgUsage(slots: 2)
        usage.record(orgID: o1, statements: 1, duration: .milliseconds(5), failed: false)
        let before = usage.top(5).since
        usage.reset()
        let after = usage.top(5)
        #expect(after.entries.isEmpty)
        #expect(after.since >= before)
        usage.record(orgID: o2, statements: 1, duration: .milliseconds(5), failed: false)
        #expect(usage.top(5).entries == [entry(o2, 1, 0, 5)])
    }

    @Test func theReportRoundTripsThroughJSON() throws {
        let usage = try OrgUsage(slots: 2)
        usage.record(orgID: o1, statements: 3, duration: .milliseconds(12), failed: true)
        let report = usage.top(2)
        let decoded = try JSONDecoder().decode(OrgUsageReport.self, from: try JSONEncoder().encode(report))
        #expect(decoded == report)
    }

    @Test func aBadSlotCountIsRefusedByName() {
        for slots in [0, -1, OrgUsage.maxSlots + 1] {
            #expect {
                try OrgUsage(slots: slots)
            } throws: { error in
                guard let error = error as? PostgresClientError else { return false }
                return error.kind == .invalidConfiguration && error.message == "OrgUsage needs 1 to 10000 slots, not \(slots)"
            }
        }
        #expect(OrgUsage().slots == OrgUsage.defaultSlots)
    }

    /// A scope charges its pipelines and transactions, statements counted, failures too, to its org.
    @Test func scopesChargeTheirOrganization() async throws {
        try await withSeededDatabase { _, pool in
            let usage = try OrgUsage(slots: 4)
            let a = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: pool, usage: usage)
            let b = OrgScope(orgID: orgB, actor: .user(userA), context: PlainSettingContext(), on: pool, usage: usage)
            _ = try await a.query("SELECT pg_sleep(0.05)")
            _ = try await a.pipeline(["SELECT 1", "SELECT 2"] as [PostgresQuery])
            try await a.transaction { tx in
                _ = try await tx.query("SELECT 1")
                _ = try await tx.pipeline(["SELECT 2", "SELECT 3"] as [PostgresQuery])
            }
            let zero = 0
            _ = await captureError(PostgresError.self) { try await a.query("SELECT 1 / \(zero)") }
            _ = try await b.query("SELECT 1")

            let report = usage.top(5)
            #expect(report.entries.map(\.orgID) == [orgA, orgB])
            #expect(report.entries.map(\.statements) == [1 + 2 + 3 + 1, 1])
            #expect(report.entries.map(\.failures) == [1, 0])
            #expect(report.entries[0].seconds >= 0.05)
            #expect(report.entries.allSatisfy { $0.overcountSeconds == 0 })

            // A scope without a usage records nothing.
            let plain = OrgScope(orgID: orgB, actor: .user(userA), context: PlainSettingContext(), on: pool)
            _ = try await plain.query("SELECT 1")
            #expect(usage.top(5).entries.map(\.statements) == [7, 1])
        }
    }
}

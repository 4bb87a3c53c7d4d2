import Foundation
import TenantKitPostgres
import Synchronization

/// Database time and statements per organization, for the few organizations that use the most,
/// in fixed memory: at most ``slots`` organizations are tracked, whatever the number of tenants.
///
/// ``OrgScope`` records every unit of work (a pipeline or a transaction) of a scope made with a
/// usage; ``TenantStore`` gives its scopes its own. Organization ids stay here, never in metric
/// labels, so a metrics backend's series stay bounded.
///
/// ```swift
/// let usage = try OrgUsage(slots: 200)   // or OrgUsage(): 100 slots
/// let scope = OrgScope(orgID: orgID, actor: .user(userID), context: context, on: pool, usage: usage)
/// _ = try await scope.fetchAll("SELECT id FROM runs", as: UUID.self)
/// let busiest = usage.top(10).entries   // most database time first
/// usage.reset()
/// ```
///
/// With more organizations than slots, an organization new to a full table replaces the one with
/// the least time and inherits it as ``OrgUsageReport/Entry/overcountSeconds`` (the space-saving
/// sketch): every organization that used more time than the least in the table is listed.
public final class OrgUsage: Sendable {
    /// The most organizations tracked at once.
    public let slots: Int
    private let state: Mutex<(table: UsageTable, since: Date)>

    /// The default number of slots.
    public static let defaultSlots = 100
    /// The most slots allowed: the table is searched linearly when full.
    public static let maxSlots = 10_000

    /// - Parameter slots: 1 to ``maxSlots`` organizations tracked at once.
    /// - Throws: ``PostgresClientError/Kind/invalidConfiguration`` naming a bad slot count.
    public convenience init(slots: Int) throws {
        guard (1...Self.maxSlots).contains(slots) else {
            throw PostgresClientError(.invalidConfiguration, "OrgUsage needs 1 to \(Self.maxSlots) slots, not \(slots)")
        }
        self.init(checkedSlots: slots)
    }

    /// A usage of ``defaultSlots`` slots.
    public convenience init() {
        self.init(checkedSlots: Self.defaultSlots)
    }

    private init(checkedSlots slots: Int) {
        self.slots = slots
        state = Mutex((UsageTable(capacity: slots), Date()))
    }

    /// The `count` organizations with the most database time, most first (all tracked ones when
    /// `count` exceeds them). A negative `count` is a programming error.
    public func top(_ count: Int) -> OrgUsageReport {
        precondition(count >= 0, "OrgUsage.top(_:) needs a count of 0 or more, not \(count)")
        let (top, since) = state.withLock { ($0.table.top(count), $0.since) }
        return OrgUsageReport(
            since: since, slots: slots,
            entries: top.map { slot in
                OrgUsageReport.Entry(
                    orgID: slot.orgID, statements: slot.statements, failures: slot.failures,
                    seconds: Self.seconds(slot.time), overcountSeconds: Self.seconds(slot.overcount))
            })
    }

    /// Forgets every organization and starts counting again from now.
    public func reset() {
        state.withLock { state in
            state.table.removeAll()
            state.since = Date()
        }
    }

    /// Charges one unit of work to `orgID`.
    func record(orgID: UUID, statements: Int, duration: Duration, failed: Bool) {
        state.withLock { $0.table.record(orgID: orgID, statements: statements, time: duration, failed: failed) }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

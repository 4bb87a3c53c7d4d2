import Foundation

/// The bookkeeping of ``OrgUsage``: a space-saving table of at most `capacity` organizations,
/// ranked by database time. Pure (no clock, no lock), so its eviction rule is testable alone.
///
/// An organization not in a full table takes the slot of the one with the least time and inherits
/// that time as its overcount: every organization whose true time exceeds the least time in the
/// table is in it, and no entry's time is off by more than its `overcount`.
struct UsageTable {
    struct Slot: Equatable {
        let orgID: UUID
        var statements: Int
        var failures: Int
        /// Time charged to the organization, plus `overcount`.
        var time: Duration
        /// Time inherited from the organization it evicted (zero while it never evicted one).
        let overcount: Duration
    }

    let capacity: Int
    private(set) var slots: [Slot] = []
    private var indexByOrg: [UUID: Int] = [:]

    init(capacity: Int) {
        self.capacity = capacity
        slots.reserveCapacity(capacity)
        indexByOrg.reserveCapacity(capacity)
    }

    mutating func record(orgID: UUID, statements: Int, time: Duration, failed: Bool) {
        let failures = failed ? 1 : 0
        if let index = indexByOrg[orgID] {
            slots[index].statements += statements
            slots[index].failures += failures
            slots[index].time += time
            return
        }
        if slots.count < capacity {
            indexByOrg[orgID] = slots.count
            slots.append(Slot(orgID: orgID, statements: statements, failures: failures, time: time, overcount: .zero))
            return
        }
        // Full: the least-time slot goes (the first of equals, so replays give the same table). O(capacity), at most a few hundred.
        var least = 0
        for index in slots.indices.dropFirst() where slots[index].time < slots[least].time { least = index }
        let inherited = slots[least].time
        indexByOrg.removeValue(forKey: slots[least].orgID)
        indexByOrg[orgID] = least
        slots[least] = Slot(
            orgID: orgID, statements: statements, failures: failures,
            time: inherited + time, overcount: inherited)
    }

    /// The `count` slots with the most time, most first (ties: more statements first, then by id).
    func top(_ count: Int) -> [Slot] {
        let ranked = slots.sorted { a, b in
            if a.time != b.time { return a.time > b.time }
            if a.statements != b.statements { return a.statements > b.statements }
            return a.orgID.uuidString < b.orgID.uuidString
        }
        return Array(ranked.prefix(count))
    }

    mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        indexByOrg.removeAll(keepingCapacity: true)
    }
}

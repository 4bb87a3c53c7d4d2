import Foundation
import Synchronization

/// When this process last recorded each API key's use, so that requests through
/// ``TenantStore/withAPIKey(_:_:)`` on Citus (``SignedTenantContext/Transport/setLocal``, whose
/// context statement only checks the key) record it once a minute per key.
final class APIKeyUses: Sendable {
    private let recorded = Mutex<[UUID: ContinuousClock.Instant]>([:])

    /// True, and noted, when `keyID`'s use was not recorded in the last minute. Only the last
    /// minute's keys are kept.
    func isDue(_ keyID: UUID, now: ContinuousClock.Instant = .now) -> Bool {
        recorded.withLock { recorded in
            if let last = recorded[keyID], now - last < .seconds(60) { return false }
            recorded = recorded.filter { now - $0.value < .seconds(60) }
            recorded[keyID] = now
            return true
        }
    }

    /// Undoes ``isDue(_:now:)`` after the use could not be recorded: the next request tries again.
    func forget(_ keyID: UUID) { _ = recorded.withLock { $0.removeValue(forKey: keyID) } }
}

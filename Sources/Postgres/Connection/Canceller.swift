import CLibPQ
import Synchronization

/// Turns Swift task cancellation into a server-side cancel (libpq's `PQcancel`) of exactly the
/// operation that was cancelled.
///
/// Operations are numbered as they are queued. Cancelling one that has not started yet marks it, and
/// it ends before sending anything. Cancelling the running one sends `PQcancel` while holding the
/// lock, so the next operation cannot start until the cancel request has reached the server; the
/// server ignores a cancel that arrives while the backend is idle, so the cancel cannot hit the wrong
/// statement.
final class Canceller: Sendable {
    private struct State: @unchecked Sendable {
        // PGcancel is safe to use from any thread (libpq documents PQcancel as thread-safe); it is only
        // ever touched under this lock.
        var handle: OpaquePointer?
        var nextID: UInt64 = 0
        var queued: Set<UInt64> = []
        var cancelledBeforeStart: Set<UInt64> = []
        var running: UInt64?
        var cancelSentForRunning = false
    }

    private let state: Mutex<State>

    init(handle: OpaquePointer?) {
        state = Mutex(State(handle: handle))
    }

    deinit {
        state.withLock { state in
            if let handle = state.handle { PQfreeCancel(handle) }
            state.handle = nil
        }
    }

    /// Numbers an operation about to be queued.
    func register() -> UInt64 {
        state.withLock { state in
            state.nextID += 1
            state.queued.insert(state.nextID)
            return state.nextID
        }
    }

    /// Called as the operation starts; false if it was already cancelled. Blocks while a cancel
    /// request is being sent: never call it on an event loop or the cooperative pool.
    func start(_ id: UInt64) -> Bool {
        state.withLock { Self.begin(id, in: &$0) }
    }

    /// ``start(_:)`` without waiting: nil when a cancel is being sent right now (the lock is held
    /// across `PQcancel`), so the caller can wait for it elsewhere.
    func startIfUnlocked(_ id: UInt64) -> Bool? {
        state.withLockIfAvailable { Self.begin(id, in: &$0) }
    }

    private static func begin(_ id: UInt64, in state: inout State) -> Bool {
        state.queued.remove(id)
        if state.cancelledBeforeStart.remove(id) != nil { return false }
        state.running = id
        state.cancelSentForRunning = false
        return true
    }

    /// Called as the operation ends; true if a server-side cancel was sent while it ran.
    func finish(_ id: UInt64) -> Bool {
        state.withLock { state in
            guard state.running == id else { return false }
            state.running = nil
            return state.cancelSentForRunning
        }
    }

    /// Cancels operation `id`: marks it if still queued, sends `PQcancel` if running, ignores it if done.
    /// Blocks while the cancel request is sent: call it off Swift's cooperative pool.
    func cancel(_ id: UInt64) {
        state.withLock { state in
            if state.queued.contains(id) {
                state.cancelledBeforeStart.insert(id)
            } else if state.running == id, !state.cancelSentForRunning, let handle = state.handle {
                var message = [CChar](repeating: 0, count: 256)
                _ = PQcancel(handle, &message, Int32(message.count))
                state.cancelSentForRunning = true
            }
        }
    }
}

import Synchronization

/// A one-shot signal between the attacker's task and a victim's: one side opens it, the other
/// waits for it, for a bounded time (an attack must never hang the suite).
public final class InjectionGate: Sendable {
    private let opened = Mutex(false)

    /// A closed gate.
    public init() {}

    /// Opens the gate for every waiter, now and later.
    public func open() { opened.withLock { $0 = true } }

    /// Whether the gate was opened.
    public var isOpen: Bool { opened.withLock { $0 } }

    /// Waits until the gate is open or `limit` has passed; true when it opened.
    public func wait(upTo limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !isOpen {
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(5))) != nil else { return isOpen }
        }
        return true
    }
}

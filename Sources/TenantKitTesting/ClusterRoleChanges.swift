/// Keeps tests that create or drop roles from doing so while another test checks that the cluster's
/// roles did not change (the injection suite's snapshots): roles are cluster-wide, shared by every
/// test database, and tests run in parallel.
///
/// Observers share the gate; a role change takes it alone, waiting for the observations under way
/// and holding back new ones until it is done (first come, first served).
public actor ClusterRoleChanges {
    public static let shared = ClusterRoleChanges()

    private var observers = 0
    private var changing = false
    private var queue: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Starts a window in which the cluster's roles must not change.
    public func beginObserving() async { await acquire(exclusive: false) }
    public func endObserving() { release(exclusive: false) }

    /// Runs `change` (a CREATE ROLE or DROP ROLE) outside every observation window.
    public nonisolated func change<T: Sendable>(_ change: @Sendable () async throws -> T) async rethrows -> T {
        await acquire(exclusive: true)
        do {
            let result = try await change()
            await release(exclusive: true)
            return result
        } catch {
            await release(exclusive: true)
            throw error
        }
    }

    private func acquire(exclusive: Bool) async {
        if queue.isEmpty, !changing, !exclusive || observers == 0 {
            if exclusive { changing = true } else { observers += 1 }
            return
        }
        await withCheckedContinuation { queue.append((exclusive, $0)) }
    }

    private func release(exclusive: Bool) {
        if exclusive { changing = false } else { observers -= 1 }
        while let first = queue.first, !changing, !first.exclusive || observers == 0 {
            queue.removeFirst()
            if first.exclusive { changing = true } else { observers += 1 }
            first.continuation.resume()
        }
    }
}

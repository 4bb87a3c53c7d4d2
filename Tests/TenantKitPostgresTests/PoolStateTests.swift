@testable import TenantKitPostgres
import Testing

/// The pool's rules, without I/O: connections are plain strings here.
@Suite struct PoolStateTests {
    @Test func opensUpToTheMaximumThenQueues() {
        var state = PoolState<String>(maxConnections: 2)
        #expect(isOpen(state.lease(waiter: 1)))
        #expect(isOpen(state.lease(waiter: 2)))
        #expect(isWait(state.lease(waiter: 3)))
        #expect(state.open == 2)
        #expect(state.waiters == [3])
    }

    @Test func returnedConnectionGoesToTheOldestWaiter() {
        var state = PoolState<String>(maxConnections: 1)
        _ = state.lease(waiter: 1)
        _ = state.lease(waiter: 2)
        _ = state.lease(waiter: 3)
        guard case .handOver(let connection, let waiter) = state.giveBack("c1") else {
            Issue.record("expected a hand-over")
            return
        }
        #expect(connection == "c1" && waiter == 2)
        #expect(state.waiters == [3])
    }

    @Test func idleConnectionsAreReused() {
        var state = PoolState<String>(maxConnections: 2)
        _ = state.lease(waiter: 1)
        guard case .keep = state.giveBack("c1") else { Issue.record("expected keep"); return }
        guard case .use(let connection) = state.lease(waiter: 2) else { Issue.record("expected use"); return }
        #expect(connection == "c1")
        #expect(state.open == 1)
    }

    @Test func discardingABrokenConnectionOpensOneForAWaiter() {
        var state = PoolState<String>(maxConnections: 1)
        _ = state.lease(waiter: 1)
        _ = state.lease(waiter: 2)
        let replacementFor = state.discard()
        #expect(replacementFor == 2)
        #expect(state.open == 1)
        #expect(state.waiters.isEmpty)
        let none = state.discard()
        #expect(none == nil)
        #expect(state.open == 0)
    }

    @Test func abandonedWaiterIsForgottenOnce() {
        var state = PoolState<String>(maxConnections: 1)
        _ = state.lease(waiter: 1)
        _ = state.lease(waiter: 2)
        let first = state.abandon(waiter: 2)
        let second = state.abandon(waiter: 2)
        #expect(first && !second)
        guard case .keep = state.giveBack("c1") else { Issue.record("expected keep"); return }
    }

    @Test func closingFailsWaitersAndClosesReturns() {
        var state = PoolState<String>(maxConnections: 2)
        _ = state.lease(waiter: 1)
        _ = state.lease(waiter: 2)
        _ = state.giveBack("c2")
        _ = state.lease(waiter: 3)  // reuses c2
        _ = state.lease(waiter: 4)  // waits
        let (idle, waiters) = state.close()
        #expect(idle.isEmpty && waiters == [4])
        guard case .close(let connection) = state.giveBack("c1") else { Issue.record("expected close"); return }
        #expect(connection == "c1")
        guard case .fail = state.lease(waiter: 5) else { Issue.record("expected fail"); return }
    }

    @Test func statisticsCountLeasedAsOpenButNotIdle() {
        var state = PoolState<String>(maxConnections: 3)
        _ = state.lease(waiter: 1)
        _ = state.lease(waiter: 2)
        _ = state.giveBack("c1")
        #expect(state.statistics == PostgresPoolStatistics(open: 2, idle: 1, leased: 1, waiting: 0, maxConnections: 3))
        _ = state.lease(waiter: 3)  // reuses c1
        _ = state.lease(waiter: 4)  // opens a third
        _ = state.lease(waiter: 5)  // waits
        #expect(state.statistics == PostgresPoolStatistics(open: 3, idle: 0, leased: 3, waiting: 1, maxConnections: 3))
    }

    @Test func drainingRefusesLeasesAsDrainingAndAClosedPoolStaysClosed() {
        var state = PoolState<String>(maxConnections: 2)
        _ = state.lease(waiter: 1)
        _ = state.close(.draining)
        guard case .fail(.draining) = state.lease(waiter: 2) else { Issue.record("expected a draining refusal"); return }
        _ = state.close(.closed)  // a close during a drain does not change how it shut down
        #expect(state.shutdown == .draining)
        guard case .close = state.giveBack("c1") else { Issue.record("expected close"); return }
        #expect(state.statistics == PostgresPoolStatistics(open: 0, idle: 0, leased: 0, waiting: 0, maxConnections: 2))
    }

    @Test func aPreferredIdleConnectionGoesFirstElseTheLastReturned() {
        var state = PoolState<String>(maxConnections: 3)
        for waiter in 1...3 { _ = state.lease(waiter: waiter) }
        for connection in ["a1", "b1", "b2"] { _ = state.giveBack(connection) }
        guard case .use(let preferred) = state.lease(waiter: 4, preferring: { $0.hasPrefix("a") }) else { Issue.record("expected use"); return }
        #expect(preferred == "a1")
        guard case .use(let fallback) = state.lease(waiter: 5, preferring: { $0.hasPrefix("a") }) else { Issue.record("expected use"); return }
        #expect(fallback == "b2")
        #expect(state.idle == ["b1"])
    }

    private func isOpen(_ action: PoolState<String>.LeaseAction) -> Bool { if case .open = action { true } else { false } }
    private func isWait(_ action: PoolState<String>.LeaseAction) -> Bool { if case .wait = action { true } else { false } }
}

import Foundation
@testable import TenantKitPostgres
import TenantKitTesting
import Synchronization
import Testing

/// The event loop under the driver: many sockets on one thread, output that must wait for the
/// socket, a server that goes away, cancellation, and which thread a caller resumes on.
@Suite struct EventLoopTests {
    @Test func manyConnectionsShareOneLoop() async throws {
        try await TestDatabase.with { db in
            let loop = PostgresEventLoop(name: "test.many")
            defer { loop.shutdown() }
            var connections: [PostgresConnection] = []
            for _ in 0..<24 { connections.append(try await PostgresConnection.connect(db.configuration, eventLoop: loop)) }
            let started = ContinuousClock.now
            // Each waits 200 ms on the server: together they take about that long, not 24 times it.
            let sums = try await withThrowingTaskGroup(of: Int.self) { group in
                for (n, connection) in connections.enumerated() {
                    group.addTask {
                        var sum = 0
                        for round in 0..<5 {
                            sum += try await connection.fetchOne("SELECT \(n * 10 + round)::int8 FROM pg_sleep(0.04)", as: Int.self)
                        }
                        return sum
                    }
                }
                var all: [Int] = []
                for try await sum in group { all.append(sum) }
                return all.sorted()
            }
            #expect(sums == (0..<24).map { $0 * 50 + 10 })
            #expect(ContinuousClock.now - started < .seconds(3))
            for connection in connections {
                #expect(connection.eventLoop === loop)
                await connection.close()
            }
        }
    }

    @Test func aPipelineLargerThanTheSocketBufferIsFlushedWhileReading() async throws {
        try await withConnection { c in
            // About 24 MB of parameters in one write: far more than a socket takes at once, so the
            // rest goes out as the socket reports it writable, while results come back.
            let big = String(repeating: "x", count: 2 << 20)
            let queries: [PostgresQuery] = (0..<12).map { "SELECT length(\(big + String($0)))::int8" }
            let before = c.roundTrips
            let lengths = try await c.pipeline(queries).map { try $0.first!.decode(Int.self, at: 0) }
            #expect(lengths == (0..<12).map { (2 << 20) + String($0).count })
            #expect(c.roundTrips - before == 1)
            #expect(try await c.fetchOne("SELECT 'after'", as: String.self) == "after")
        }
    }

    @Test func aServerThatDiesWhileWaitingFailsThatConnectionOnly() async throws {
        try await TestDatabase.with { db in
            let loop = PostgresEventLoop(name: "test.dies")
            defer { loop.shutdown() }
            let victim = try await PostgresConnection.connect(db.configuration, eventLoop: loop)
            let neighbour = try await PostgresConnection.connect(db.configuration, eventLoop: loop)
            let killer = try await db.connect()
            let waiting = Task { try await victim.query("SELECT pg_sleep(30) /* loop-kill-marker */") }
            while try await !isRunning("loop-kill-marker", on: killer) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await killer.fetchOne("SELECT pg_terminate_backend(\(victim.backendPID))", as: Bool.self))
            let error = await captureError(PostgresClientError.self) { try await waiting.value }
            #expect(error?.kind == .connectionClosed)
            #expect(!victim.isUsable)
            let again = await captureError(PostgresClientError.self) { try await victim.query("SELECT 1") }
            #expect(again?.kind == .connectionClosed)
            // The loop carries on with its other sockets.
            #expect(try await neighbour.fetchOne("SELECT 7", as: Int32.self) == 7)
            await victim.close()
            await neighbour.close()
            await killer.close()
        }
    }

    @Test func cancellingWhileWaitingCancelsOnTheServerAndNeverStallsTheLoop() async throws {
        try await TestDatabase.with { db in
            let loop = PostgresEventLoop(name: "test.cancel")
            defer { loop.shutdown() }
            let c = try await PostgresConnection.connect(db.configuration, eventLoop: loop)
            let neighbour = try await PostgresConnection.connect(db.configuration, eventLoop: loop)
            let observer = try await db.connect()
            let task = Task(executorPreference: loop) { try await c.query("SELECT pg_sleep(30) /* loop-cancel-marker */") }
            while try await !isRunning("loop-cancel-marker", on: observer) { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            // Meanwhile, the loop serves its other connection.
            #expect(try await neighbour.fetchOne("SELECT 3", as: Int32.self) == 3)
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await !isRunning("loop-cancel-marker", on: observer))
            #expect(try await c.fetchOne("SELECT 'usable'", as: String.self) == "usable")
            await c.close()
            await neighbour.close()
            await observer.close()
        }
    }

    @Test func aTaskPreferringTheLoopRunsOnItAndOneWithoutResumesOnItsOwnExecutor() async throws {
        try await withConnection { c in
            let loop = c.eventLoop
            let onLoop = try await withTaskExecutorPreference(loop) {
                _ = try await c.query("SELECT 1")
                return PostgresEventLoop.current === loop
            }
            #expect(onLoop)
            let elsewhere = try await Task.detached {
                _ = try await c.query("SELECT 1")
                return PostgresEventLoop.current == nil
            }.value
            #expect(elsewhere)
            // Both kinds of caller at once, on one connection, in the order they were issued.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<20 {
                    if n.isMultiple(of: 2) {
                        group.addTask(executorPreference: loop) {
                            let value = try await c.fetchOne("SELECT \(n)::int8", as: Int.self)
                            #expect(value == n)
                        }
                    } else {
                        group.addTask {
                            let value = try await c.fetchOne("SELECT \(n)::int8", as: Int.self)
                            #expect(value == n)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func poolBodiesRunOnTheirConnectionsLoop() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 2)
            let (same, pid) = try await pool.withConnection { c in
                let pid = try await c.fetchOne("SELECT pg_backend_pid()", as: Int32.self)
                return (PostgresEventLoop.current === c.eventLoop, pid)
            }
            #expect(same)
            #expect(pid != 0)
            let inTransaction = try await pool.withTransaction { tx in
                _ = try await tx.query("SELECT 1")
                return PostgresEventLoop.current === tx.connection.eventLoop
            }
            #expect(inTransaction)
            await pool.close()
        }
    }

    @Test func aCallerOnALoopLeasesAConnectionOfThatLoop() async throws {
        try await TestDatabase.with { db in
            let group = PostgresEventLoopGroup(loopCount: 2, name: "test.affinity")
            defer { group.shutdown() }
            let pool = PostgresPool(configuration: db.configuration, maxConnections: 4, eventLoopGroup: group)
            // Four at once from plain tasks: the pool spreads them over both loops.
            let loops = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { tasks in
                for _ in 0..<4 {
                    tasks.addTask { try await pool.withConnection { c in try await c.execute("SELECT pg_sleep(0.3)"); return ObjectIdentifier(c.eventLoop) } }
                }
                var seen = Set<ObjectIdentifier>()
                for try await loop in tasks { seen.insert(loop) }
                return seen
            }
            #expect(loops.count == 2)
            for loop in group.loops {
                let matched = try await Task(executorPreference: loop) {
                    var all = true
                    for _ in 0..<6 {
                        all = try await pool.withConnection { $0.eventLoop === loop } && all
                    }
                    return all
                }.value
                #expect(matched)
            }
            await pool.close()
        }
    }
}

/// A loop that was shut down keeps its descriptors until nothing refers to it: a late wake-up must
/// never land in a socket that took over the number of its eventfd.
@Suite struct StoppedLoopTests {
    @Test func lateWorkForAStoppedLoopNeverReachesAnotherConnection() async throws {
        try await TestDatabase.with { db in
            let loop = PostgresEventLoop(name: "test.stopped")
            loop.shutdown()
            while !loop.hasStopped { try await Task.sleep(for: .milliseconds(5)) }
            // Opened after the loop stopped: with its descriptors closed, these sockets could take their numbers.
            var connections: [PostgresConnection] = []
            for _ in 0..<4 { connections.append(try await db.connect()) }
            let ran = Counter()
            for _ in 0..<20 { loop.execute { ran.increment() } }
            #expect(ran.value == 20)  // bookkeeping work runs at once, on the caller's thread
            for connection in connections {
                #expect(try await connection.fetchOne("SELECT 1", as: Int32.self) == 1)
                await connection.close()
            }
        }
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

/// A loop as an actor's executor: the actor's methods run on the loop's thread, and its round
/// trips need no hand-off.
@Suite struct LoopAsActorExecutorTests {
    private actor LoopBound {
        let loop: PostgresEventLoop
        let connection: PostgresConnection
        init(loop: PostgresEventLoop, connection: PostgresConnection) {
            self.loop = loop
            self.connection = connection
        }
        nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

        /// Whether the actor runs on its loop before and after a round trip, and the answer.
        func readOnLoop() async throws -> (before: Bool, after: Bool, answer: Int32) {
            let before = loop.inEventLoop
            let answer = try await connection.fetchOne("SELECT 41 + 1", as: Int32.self)
            return (before, loop.inEventLoop, answer)
        }
    }

    @Test func anActorOnTheLoopRunsItsMethodsAndRoundTripsThere() async throws {
        try await TestDatabase.with { db in
            let loop = PostgresEventLoop(name: "test.actor")
            let connection = try await PostgresConnection.connect(db.configuration, eventLoop: loop)
            let actor = LoopBound(loop: loop, connection: connection)
            let result = try await actor.readOnLoop()
            #expect(result.before && result.after)
            #expect(result.answer == 42)
            #expect(!loop.inEventLoop)  // this test's own task is elsewhere
            await connection.close()
            loop.shutdown()
        }
    }
}

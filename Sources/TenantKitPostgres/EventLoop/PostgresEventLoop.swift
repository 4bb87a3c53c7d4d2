import CLibPQ
import Foundation
import Synchronization

/// A thread that waits on the sockets of its connections and runs Swift tasks between waits.
///
/// Each connection is assigned to one loop when it connects. After a connection sends its
/// statements (from the calling thread), the loop waits for the socket to become readable (and
/// writable while libpq still has output queued), reads what has arrived without blocking, and
/// resumes the caller once the pipeline's results are complete.
///
/// A loop is also a `TaskExecutor`: a task that prefers it (`withTaskExecutorPreference(loop)`, or
/// `Task(executorPreference: loop)`) sends, waits and resumes on this one thread, with no thread
/// hand-off per round trip. ``PostgresPool/withConnection(_:)`` and transactions run their bodies
/// that way. A task without the preference is resumed on its own executor: one hand-off.
///
/// ```swift
/// let loop = PostgresEventLoopGroup.shared.next()
/// let connection = try await PostgresConnection.connect(configuration, eventLoop: loop)
/// try await withTaskExecutorPreference(loop) {
///     _ = try await connection.query("SELECT 1")  // sent, awaited and resumed on the loop's thread
/// }
/// ```
///
/// A loop is a `SerialExecutor` too: an actor that returns `loop.asUnownedSerialExecutor()` as its
/// `unownedExecutor` runs on the loop's thread, next to the connections the loop serves.
///
/// Work that runs on a loop must not block: blocking calls (connecting, sending a cancel request)
/// run elsewhere.
public final class PostgresEventLoop: TaskExecutor, SerialExecutor, Sendable {
    private enum Job: Sendable {
        case task(UnownedJob)
        case work(@Sendable () -> Void)
    }

    private struct Jobs: Sendable {
        var pending: [Job] = []
        var stopping = false
        /// The thread has exited: nothing queued from now on would run.
        var stopped = false
    }

    /// The loop's name, also its thread's.
    public let name: String
    private let jobs = Mutex(Jobs())
    /// Set by whoever wrote to the wake-up descriptor, cleared by the loop before it runs jobs, so
    /// enqueuing from another thread writes at most once per wait.
    private let wakePending = Atomic<Bool>(false)
    private let selector: Selector

    /// Starts a loop on a new thread. Usually you take one from ``PostgresEventLoopGroup/shared``.
    public init(name: String = "tenantkit.postgres.loop") {
        self.name = name
        self.selector = Selector()
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// The loop whose thread is running this code, if any.
    public static var current: PostgresEventLoop? {
        guard let pointer = pthread_getspecific(currentLoopKey) else { return nil }
        return Unmanaged<PostgresEventLoop>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool {
        pthread_getspecific(Self.currentLoopKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Runs a task's job on the loop's thread (the `TaskExecutor` and `SerialExecutor` requirement).
    public func enqueue(_ job: consuming ExecutorJob) {
        push(.task(UnownedJob(job)))
    }

    /// Checks that the caller runs on the loop's thread, for an actor whose executor is this loop.
    public func checkIsolated() {
        precondition(inEventLoop, "expected to run on event loop \(name)")
    }

    /// Runs `work` on the loop's thread, after the events and jobs already due.
    func execute(_ work: @escaping @Sendable () -> Void) {
        push(.work(work))
    }

    /// Stops the loop's thread once the jobs already queued have run. Only for a loop nothing uses
    /// any more (its connections closed): later jobs never run.
    public func shutdown() {
        jobs.withLock { $0.stopping = true }
        wake()
    }

    /// True once the loop's thread has exited after ``shutdown()``.
    var hasStopped: Bool { jobs.withLock { $0.stopped } }

    private func push(_ job: Job) {
        let accepted = jobs.withLock { jobs in
            guard !jobs.stopped else { return false }
            jobs.pending.append(job)
            return true
        }
        guard accepted else {
            // No thread runs this loop's jobs any more: bookkeeping work (releasing a socket's
            // registration) runs here; a task job would never run, which `shutdown()` forbids.
            if case .work(let work) = job { work() }
            return
        }
        // The loop's own thread checks for jobs before it waits: no need to wake it.
        if !inEventLoop { wake() }
    }

    private func wake() {
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) { selector.wake() }
    }

    // MARK: Sockets

    /// Watches `fd`, disarmed; `handler` is called on the loop's thread each time an armed socket is ready.
    func register(fd: Int32, _ handler: @escaping @Sendable (_ readable: Bool, _ writable: Bool) -> Void) -> Socket? {
        let socket = Socket(fd: fd, handler: handler)
        // Retained until deregistered: the selector's token is this pointer.
        _ = Unmanaged.passRetained(socket)
        guard selector.add(fd: fd, token: socket.token) else {
            Unmanaged.passUnretained(socket).release()
            return nil
        }
        return socket
    }

    /// Reports `socket` once, when readable (or writable too, if asked); false when the selector refused.
    func arm(_ socket: Socket, writable: Bool) -> Bool {
        selector.arm(fd: socket.fd, token: socket.token, writable: writable, fromLoop: inEventLoop)
    }

    /// Stops watching `socket`. `stillOpen` says whether its descriptor is still open: a descriptor
    /// libpq closed left the selector by itself, and its number may already belong to another socket.
    func deregister(_ socket: Socket, stillOpen: Bool) {
        guard socket.registered.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if stillOpen { selector.remove(fd: socket.fd) }
        let token = socket.token
        // Released between waits, after any event already fetched for it has been handled.
        execute { Unmanaged<Socket>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token))!).release() }
    }

    /// One watched socket.
    final class Socket: Sendable {
        let fd: Int32
        let handler: @Sendable (Bool, Bool) -> Void
        let registered = Atomic<Bool>(true)
        /// The selector's name for this socket: its address, kept alive while registered.
        var token: UInt64 { UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())) }
        init(fd: Int32, handler: @escaping @Sendable (Bool, Bool) -> Void) {
            self.fd = fd
            self.handler = handler
        }
    }

    // MARK: The loop

    private static let currentLoopKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private func run() {
        pthread_setspecific(Self.currentLoopKey, Unmanaged.passUnretained(self).toOpaque())
        // The kernel's name for the thread (what top and perf show); Linux keeps 15 bytes of it.
        #if os(Linux)
        tk_name_thread(String(name.suffix(15)))
        #endif
        let executor = asUnownedTaskExecutor()
        let serial = asUnownedSerialExecutor()
        var events = Selector.Events()
        var batch: [Job] = []
        batch.reserveCapacity(64)
        while true {
            let due = jobs.withLock { !$0.pending.isEmpty || $0.stopping }
            // Events first, then jobs: a socket deregistered by a job cannot have an event fetched after it.
            selector.wait(&events, timeoutMillis: due ? 0 : -1)
            for i in 0..<events.count {
                let token = events.tokens[i]
                if token == Selector.wakeToken {
                    selector.drainWake()
                    wakePending.store(false, ordering: .releasing)
                    continue
                }
                let socket = Unmanaged<Socket>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token))!).takeUnretainedValue()
                socket.handler(events.ready[i] & 1 != 0, events.ready[i] & 2 != 0)
            }
            let stopping = jobs.withLock { jobs in
                swap(&batch, &jobs.pending)
                return jobs.stopping
            }
            for job in batch {
                switch job {
                case .task(let job): job.runSynchronously(isolatedTo: serial, taskExecutor: executor)
                case .work(let work): work()
                }
            }
            batch.removeAll(keepingCapacity: true)
            if stopping, jobs.withLock({ jobs in
                jobs.stopped = jobs.pending.isEmpty
                return jobs.stopped
            }) { break }
        }
        pthread_setspecific(Self.currentLoopKey, nil)
    }
}

/// A fixed set of event loops; connections are spread over them in turn.
public final class PostgresEventLoopGroup: Sendable {
    /// The loops, one thread each.
    public let loops: [PostgresEventLoop]
    private let nextIndex = Atomic<Int>(0)

    /// The group connections and pools use unless told otherwise: one loop per core.
    public static let shared = PostgresEventLoopGroup(loopCount: ProcessInfo.processInfo.activeProcessorCount, name: "tenantkit.postgres.loop")

    /// - Parameters:
    ///   - loopCount: loops (threads) to start; at least one.
    ///   - name: the threads' name prefix (`<name>.0`, `<name>.1`, ...), as `top` and debuggers show it.
    public init(loopCount: Int, name: String = "tenantkit.postgres.loop") {
        loops = (0..<max(1, loopCount)).map { PostgresEventLoop(name: "\(name).\($0)") }
    }

    /// The next loop in turn.
    public func next() -> PostgresEventLoop {
        loops[(nextIndex.add(1, ordering: .relaxed).oldValue & Int.max) % loops.count]
    }

    /// Stops every loop (see ``PostgresEventLoop/shutdown()``). Never call it on ``shared``.
    public func shutdown() {
        for loop in loops { loop.shutdown() }
    }
}

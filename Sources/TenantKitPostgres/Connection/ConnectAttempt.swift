import Dispatch
import Synchronization

/// One connection attempt driven on an event loop without blocking it: libpq's `PQconnectPoll`
/// is called each time the socket is ready for what it last asked for (TCP connect, TLS and
/// authentication exchanges), and the caller is resumed once the session is ready or failed.
///
/// libpq leaves `connect_timeout` to the caller in this mode: a timer on the loop enforces it.
/// libpq may switch sockets between attempts (several hosts, or `sslmode=prefer` retrying
/// without TLS) and a new socket may reuse the old number, so the socket is watched afresh for
/// each wait rather than registered once.
final class ConnectAttempt: Sendable {
    private struct State: Sendable {
        var session: LibpqConnection?
        var watched: PostgresEventLoop.Socket?
        var continuation: CheckedContinuation<LibpqConnection, any Error>?
    }

    private let loop: PostgresEventLoop
    private let timeoutSeconds: Int?
    private let state: Mutex<State>

    private init(session: LibpqConnection, loop: PostgresEventLoop, timeoutSeconds: Int?, continuation: CheckedContinuation<LibpqConnection, any Error>) {
        self.loop = loop
        self.timeoutSeconds = timeoutSeconds
        self.state = Mutex(State(session: session, continuation: continuation))
    }

    /// Connects `session` (just started with ``LibpqConnection/startConnecting(_:cacheCapacity:logger:)``) on
    /// `loop`. Cancelling the task abandons the attempt.
    static func connect(_ session: LibpqConnection, on loop: PostgresEventLoop, timeoutSeconds: Int?) async throws -> LibpqConnection {
        try Task.checkCancellation()
        let attempt = Mutex<ConnectAttempt?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let started = ConnectAttempt(session: session, loop: loop, timeoutSeconds: timeoutSeconds, continuation: continuation)
                attempt.withLock { $0 = started }
                loop.execute { started.begin() }
            }
        } onCancel: {
            guard let started = attempt.withLock({ $0 }) else { return }
            loop.execute { started.end(.failure(CancellationError())) }
        }
    }

    /// On the loop: starts the timer, then waits as libpq asks first (for the socket to be writable).
    private func begin() {
        if let timeoutSeconds {
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(timeoutSeconds)) { [self] in
                // An attempt that already ended leaves the loop alone.
                guard state.withLock({ $0.session != nil }) else { return }
                loop.execute { [self] in
                    guard let session = state.withLock({ $0.session }) else { return }
                    end(.failure(session.connectTimedOut(after: timeoutSeconds)))
                }
            }
        }
        wait(for: .writable)
    }

    /// On the loop: watches the current socket for `progress`, then polls libpq when it is ready.
    private func wait(for progress: LibpqConnection.ConnectProgress) {
        guard let session = state.withLock({ $0.session }) else { return }
        let watched = loop.register(fd: session.socket) { [self] _, _ in poll() }
        guard let watched else {
            return end(.failure(PostgresClientError(.connectionFailed, "cannot watch the connecting socket")))
        }
        state.withLock { $0.watched = watched }
        if !loop.arm(watched, writable: progress == .writable) {
            end(.failure(PostgresClientError(.connectionFailed, "cannot watch the connecting socket")))
        }
    }

    /// On the loop: the socket is ready; lets libpq take the next step.
    private func poll() {
        guard let session = state.withLock({ $0.session }) else { return }  // already ended
        stopWatching()
        do {
            switch try session.pollConnect() {
            case .connected: end(.success(session))
            case let progress: wait(for: progress)
            }
        } catch {
            end(.failure(error))
        }
    }

    /// On the loop: resumes the caller once; a session that did not connect is closed.
    private func end(_ result: Result<LibpqConnection, any Error>) {
        stopWatching()
        let (session, continuation) = state.withLock { state in
            defer { state.session = nil; state.continuation = nil }
            return (state.session, state.continuation)
        }
        guard let continuation else { return }
        if case .failure = result { session?.close() }
        continuation.resume(with: result)
    }

    /// Takes the socket off the loop; it is still open (libpq has not been called since it was watched).
    private func stopWatching() {
        guard let watched = state.withLock({ $0.watched.take() }) else { return }
        loop.deregister(watched, stillOpen: true)
    }
}

/// Every rule of one connection's life as a pure state machine: no I/O, no locks, no tasks.
/// ``PostgresConnection`` feeds it events (a call arrives, statements went out, results are in, a
/// task cancelled, the server went away) and carries out the steps it returns, so each rule here
/// is testable alone (`ConnectionStateTests`).
///
/// The phases, in the order a round trip passes through them:
/// - ``Phase/idle``: nothing runs; a call that arrives starts at once.
/// - ``Phase/sending(_:cancelRequested:)``: the thread that started the call owns the libpq session
///   and is writing its statements. A cancel waits until they are out.
/// - ``Phase/awaiting(_:pipeline:reading:cancel:)``: round trip `pipeline` is out and the event loop
///   reads its results; `reading` is the resumable reader while the socket is armed, nil while the
///   loop holds it.
/// - ``Phase/cancelInFlight``: the call ended, but a cancel request sent for it is still on its way
///   to the server. Nothing may start before it arrives: it would cancel the wrong statement.
/// - ``Phase/broken(_:)`` and ``Phase/closed``: calls fail at once, except closing.
///
/// Orthogonal to the phase, ``transaction`` says who may send: while a transaction is open only its
/// handle may, and its BEGIN and prelude travel with whichever of its statements starts first.
///
/// `Call` is what the connection needs to finish a call (its work and continuation); `Reading` is
/// the reader of a round trip in progress. Tests use plain values for both.
struct ConnectionState<Call, Reading> {
    typealias CallID = UInt64

    /// A call that holds, or waits for, the connection's turn.
    struct Operation {
        let id: CallID
        /// Nil for closing, which anyone may do in any phase.
        let sender: TransactionOwnership.Sender?
        let call: Call
    }

    enum Cancel: Equatable {
        case none
        /// A cancel request is on its way to the server.
        case inFlight
        /// The server has the cancel request; the statement ends with `57014` unless it finished first.
        case delivered
    }

    enum Phase {
        case idle
        case sending(Operation, cancelRequested: Bool)
        case awaiting(Operation, pipeline: Int, reading: Reading?, cancel: Cancel)
        case cancelInFlight
        case broken(PostgresClientError)
        case closed
    }

    /// What the connection does next.
    enum Step {
        /// Send `operation`'s statements, `first` (a transaction's BEGIN and prelude) ahead of them.
        /// The caller owns the session until it reports ``sent(_:)`` or ``finish(_:connectionBroken:)``.
        case start(Operation, first: [PostgresQuery])
        /// Resume `call` with `result` without sending anything.
        case finish(Call, Result<[PostgresRows], any Error>)
    }

    private(set) var phase = Phase.idle
    /// Calls waiting for their turn, oldest first.
    private(set) var queue = CallQueue<Operation>()
    /// Who may send; asked as each operation starts.
    private(set) var transaction = TransactionOwnership()
    /// Round trips started, the `pipeline` number of the last one.
    private(set) var pipelines = 0
    private var lastID: CallID = 0
    /// Numbered (``register()``) but not yet queued: a cancel that arrives first is remembered here.
    private var announced: [CallID: Bool] = [:]

    /// True when nothing runs, nothing waits and no transaction is open.
    var isQuiet: Bool {
        guard case .idle = phase else { return false }
        return queue.isEmpty && !transaction.isOpen
    }

    /// True when the connection may go to its next user: quiet, or quiet but for a cancel request
    /// still on its way for a call that has ended. The next call waits for that request to arrive
    /// (``cancelDelivered()``), so it cannot be cancelled by it, and a pool need not close a
    /// connection just because its last statement was cancelled a moment ago.
    var isFreeForNextUser: Bool {
        switch phase {
        case .idle, .cancelInFlight: return queue.isEmpty && !transaction.isOpen
        case .sending, .awaiting, .broken, .closed: return false
        }
    }

    // MARK: Calls

    /// Numbers a call before it is queued, so a cancel can name it from the start.
    mutating func register() -> CallID {
        lastID += 1
        announced[lastID] = false
        return lastID
    }

    /// Call `id` arrives (after ``register()``). Returns its first step when it may start or end at
    /// once, nil when it waits for its turn.
    mutating func enqueue(_ id: CallID, sender: TransactionOwnership.Sender?, _ call: Call) -> Step? {
        let cancelledEarly = announced.removeValue(forKey: id) ?? false
        if cancelledEarly { return .finish(call, .failure(CancellationError())) }
        let operation = Operation(id: id, sender: sender, call: call)
        switch phase {
        case .idle, .broken, .closed:
            return start(operation)
        case .sending, .awaiting, .cancelInFlight:
            queue.append(operation)
            return nil
        }
    }

    /// The next queued call's step, once nothing runs; nil when none waits or one is running.
    mutating func next() -> Step? {
        switch phase {
        case .sending, .awaiting, .cancelInFlight: return nil
        case .idle, .broken, .closed: break
        }
        guard let operation = queue.popFirst() else { return nil }
        return start(operation)
    }

    /// Starts `operation` in a phase where nothing runs.
    private mutating func start(_ operation: Operation) -> Step {
        // The session of a broken connection is already closed: closing it again is done at once.
        switch phase {
        case .broken(let error):
            return .finish(operation.call, operation.sender == nil ? .success([]) : .failure(error))
        case .closed:
            return .finish(
                operation.call,
                operation.sender == nil ? .success([]) : .failure(PostgresClientError(.connectionClosed, "the connection is closed")))
        case .idle, .sending, .awaiting, .cancelInFlight:
            break
        }
        let first: [PostgresQuery]
        do {
            first = try operation.sender.map { try transaction.start($0) } ?? []
        } catch {
            return .finish(operation.call, .failure(error))
        }
        phase = .sending(operation, cancelRequested: false)
        return .start(operation, first: first)
    }

    /// The running call's statements are out and `reading` reads their results. Returns true when a
    /// cancel arrived while they were being sent: send the cancel request now.
    mutating func sent(_ reading: Reading) -> Bool {
        guard case .sending(let operation, let cancelRequested) = phase else {
            preconditionFailure("sent() outside the sending phase: \(phase)")
        }
        pipelines += 1
        phase = .awaiting(operation, pipeline: pipelines, reading: reading, cancel: cancelRequested ? .inFlight : .none)
        return cancelRequested
    }

    /// The loop's socket was ready: takes the armed reader. Nil when nothing is armed (a stale event).
    mutating func takeReading() -> (Operation, Reading)? {
        guard case .awaiting(let operation, let pipeline, let reading?, let cancel) = phase else { return nil }
        phase = .awaiting(operation, pipeline: pipeline, reading: nil, cancel: cancel)
        return (operation, reading)
    }

    /// The results are not all in yet: arm `reading` again.
    mutating func keepReading(_ reading: Reading) {
        guard case .awaiting(let operation, let pipeline, nil, let cancel) = phase else {
            preconditionFailure("keepReading() without a taken reader: \(phase)")
        }
        phase = .awaiting(operation, pipeline: pipeline, reading: reading, cancel: cancel)
    }

    /// The running call ended with `result` (read, failed to send, or its read failed).
    /// `connectionBroken`: the session is unusable from now on (the caller closes it before it
    /// reports this); every later call fails with the same error. Returns the call to resume, with `57014` turned into `CancellationError` when the
    /// task asked for the cancel, and the next step (nil while a cancel request is still on its way).
    mutating func finish(
        _ result: Result<[PostgresRows], any Error>, connectionBroken: Bool
    ) -> (call: Call, result: Result<[PostgresRows], any Error>, next: Step?) {
        let operation: Operation
        var cancel = Cancel.none
        switch phase {
        case .sending(let running, let cancelRequested):
            operation = running
            // Nothing reached the server, so a requested cancel needs no request.
            if cancelRequested, case .failure = result { return (running.call, .failure(CancellationError()), settle(connectionBroken, result)) }
        case .awaiting(let running, _, _, let state):
            operation = running
            cancel = state
        case .idle, .cancelInFlight, .broken, .closed:
            preconditionFailure("finish() with no call running: \(phase)")
        }
        var result = result
        if cancel != .none, case .failure(let error as PostgresError) = result, error.code == .queryCanceled {
            result = .failure(CancellationError())
        }
        if cancel == .inFlight && !connectionBroken {
            phase = .cancelInFlight
            return (operation.call, result, nil)
        }
        return (operation.call, result, settle(connectionBroken, result))
    }

    private mutating func settle(_ connectionBroken: Bool, _ result: Result<[PostgresRows], any Error>) -> Step? {
        if connectionBroken {
            let error: PostgresClientError
            if case .failure(let failure as PostgresClientError) = result { error = failure } else {
                error = PostgresClientError(.connectionClosed, "the connection to the server was lost")
            }
            phase = .broken(error)
        } else {
            phase = .idle
        }
        return next()
    }

    /// The running closing call closed the session. Later calls fail with ``PostgresClientError/Kind/connectionClosed``.
    mutating func closed() -> (call: Call, next: Step?) {
        guard case .sending(let operation, _) = phase, operation.sender == nil else {
            preconditionFailure("closed() while no closing call runs: \(phase)")
        }
        phase = .closed
        return (operation.call, next())
    }

    /// The server was found gone while nothing ran (an idle check); the caller has closed the session.
    mutating func lost(_ error: PostgresClientError) {
        if case .idle = phase { phase = .broken(error) }
    }

    // MARK: Cancelling

    enum CancelStep {
        case none
        /// Resume the queued call with `CancellationError`; nothing was sent for it.
        case finish(Call)
        /// Send a server-side cancel request (off the loop: it blocks), then report ``cancelDelivered()``.
        case sendCancelRequest
    }

    /// The task of call `id` was cancelled.
    mutating func cancel(_ id: CallID) -> CancelStep {
        if announced[id] != nil {
            announced[id] = true
            return .none
        }
        if let operation = queue.remove(where: { $0.id == id }) { return .finish(operation.call) }
        switch phase {
        case .sending(let operation, false) where operation.id == id:
            phase = .sending(operation, cancelRequested: true)
            return .none
        case .awaiting(let operation, let pipeline, let reading, .none) where operation.id == id:
            phase = .awaiting(operation, pipeline: pipeline, reading: reading, cancel: .inFlight)
            return .sendCancelRequest
        default:
            return .none
        }
    }

    /// The cancel request reached the server (or could not: the server is gone, and the next send
    /// will say so). Returns the next step when the call it was for has already ended.
    mutating func cancelDelivered() -> Step? {
        switch phase {
        case .awaiting(let operation, let pipeline, let reading, .inFlight):
            phase = .awaiting(operation, pipeline: pipeline, reading: reading, cancel: .delivered)
            return nil
        case .cancelInFlight:
            phase = .idle
            return next()
        default:
            return nil
        }
    }

    // MARK: Transactions

    /// Opens a transaction whose first statement carries `pending` (BEGIN and the prelude).
    mutating func beginTransaction(_ pending: [PostgresQuery]) throws(PostgresClientError) -> TransactionOwnership.ID {
        try transaction.begin(pending)
    }

    /// The body of `id` is done; true when BEGIN was sent, so COMMIT or ROLLBACK must follow.
    mutating func finishTransaction(_ id: TransactionOwnership.ID) -> Bool {
        transaction.finish(id)
    }

    /// Transaction `id` is over.
    mutating func endTransaction(_ id: TransactionOwnership.ID) {
        transaction.end(id)
    }
}

/// A first-in, first-out queue that reuses its storage.
struct CallQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ element: Element) { items.append(element) }

    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        defer {
            head += 1
            if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        }
        return items[head]
    }

    /// Removes and returns the first element matching `predicate`.
    mutating func remove(where predicate: (Element) -> Bool) -> Element? {
        guard let index = items[head...].firstIndex(where: predicate) else { return nil }
        return items.remove(at: index)
    }
}

extension ConnectionState: Sendable where Call: Sendable, Reading: Sendable {}
extension ConnectionState.Operation: Sendable where Call: Sendable {}
extension ConnectionState.Phase: Sendable where Call: Sendable, Reading: Sendable {}
extension ConnectionState.Step: Sendable where Call: Sendable {}
extension CallQueue: Sendable where Element: Sendable {}

@testable import TenantKitPostgres
import Testing

/// One connection's rules without I/O: calls and readers are plain strings here. Each test walks
/// the phases (idle, sending, awaiting pipeline n, cancel in flight, broken, closed) with the events
/// `PostgresConnection` feeds in, and checks the steps that come out.
@Suite struct ConnectionStateTests {
    private typealias State = ConnectionState<String, String>

    // MARK: Taking turns

    @Test func aCallOnAnIdleConnectionStartsAtOnce() {
        var state = State()
        #expect(state.isQuiet)
        let id = state.register()
        #expect(started(state.enqueue(id, sender: .connection, "q1")) == "q1")
        #expect(phase(state) == "sending q1")
        #expect(!state.isQuiet)
        let cancelRequested = state.sent("reader1")
        #expect(!cancelRequested)
        #expect(phase(state) == "awaiting q1 pipeline 1 armed")
        #expect(state.pipelines == 1)
    }

    @Test func callsWaitTheirTurnAndStartInOrder() {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "q1")
        #expect(state.enqueue(state.register(), sender: .connection, "q2") == nil)  // q1 is sending
        _ = state.sent("r1")
        #expect(state.enqueue(state.register(), sender: .connection, "q3") == nil)  // q1 is awaited
        #expect(state.queue.count == 2)
        #expect(state.next() == nil)  // not while q1 runs

        let first = state.finish(.success([]), connectionBroken: false)
        #expect(first.call == "q1")
        #expect(started(first.next) == "q2")
        _ = state.sent("r2")
        #expect(phase(state) == "awaiting q2 pipeline 2 armed")
        #expect(started(state.finish(.success([]), connectionBroken: false).next) == "q3")
        _ = state.sent("r3")
        let last = state.finish(.success([]), connectionBroken: false)
        #expect(last.call == "q3" && last.next == nil)
        #expect(state.isQuiet)
        #expect(state.pipelines == 3)
    }

    @Test func theLoopTakesTheArmedReaderOnceAndArmsItAgain() {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "q1")
        _ = state.sent("r1")
        #expect(state.takeReading()?.1 == "r1")
        #expect(phase(state) == "awaiting q1 pipeline 1 taken")
        #expect(state.takeReading() == nil)  // a stale readiness event finds nothing armed
        state.keepReading("r1 after more bytes")
        #expect(state.takeReading()?.1 == "r1 after more bytes")
    }

    @Test func aCallThatEndsWithoutSendingLetsTheNextStart() {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "rollback with nothing to roll back")
        _ = state.enqueue(state.register(), sender: .connection, "q2")
        let done = state.finish(.success([]), connectionBroken: false)  // from sending, never sent
        #expect(done.call == "rollback with nothing to roll back")
        #expect(started(done.next) == "q2")
        #expect(state.pipelines == 0)
    }

    // MARK: Transactions

    @Test func aTransactionsFirstStatementCarriesBeginAndOthersAreRefused() throws {
        var state = State()
        let tx = try state.beginTransaction(["BEGIN", "SELECT set_config('tk.org', 'a', true)"])
        #expect(!state.isQuiet)

        let refused = state.enqueue(state.register(), sender: .connection, "outsider")
        #expect(failure(refused)?.kind == .transactionInProgress)

        guard case .start(let operation, let first) = state.enqueue(state.register(), sender: .transaction(tx), "tx q1") else {
            Issue.record("the handle's statement should start")
            return
        }
        #expect(operation.call == "tx q1")
        #expect(first.map(\.sql) == ["BEGIN", "SELECT set_config('tk.org', 'a', true)"])
        _ = state.sent("r")
        _ = state.finish(.success([]), connectionBroken: false)

        guard case .start(_, let second) = state.enqueue(state.register(), sender: .transaction(tx), "tx q2") else {
            Issue.record("the handle's second statement should start")
            return
        }
        #expect(second.isEmpty)
        _ = state.sent("r")
        _ = state.finish(.success([]), connectionBroken: false)

        let begun = state.finishTransaction(tx)
        #expect(begun)  // BEGIN went out: COMMIT must follow
        #expect(failure(state.enqueue(state.register(), sender: .transaction(tx), "late")).map(\.kind) == .transactionEnded)
        #expect(started(state.enqueue(state.register(), sender: .ending(tx), "COMMIT")) == "COMMIT")
        _ = state.sent("r")
        _ = state.finish(.success([]), connectionBroken: false)
        state.endTransaction(tx)
        #expect(state.isQuiet)
        #expect(started(state.enqueue(state.register(), sender: .connection, "after")) == "after")
    }

    @Test func anOutsiderQueuedBehindATransactionIsRefusedWhenItsTurnComes() throws {
        var state = State()
        let tx = try state.beginTransaction(["BEGIN"])
        _ = state.enqueue(state.register(), sender: .transaction(tx), "tx q1")
        #expect(state.enqueue(state.register(), sender: .connection, "outsider") == nil)
        _ = state.enqueue(state.register(), sender: .transaction(tx), "tx q2")
        _ = state.sent("r")
        let done = state.finish(.success([]), connectionBroken: false)
        guard case .finish(let call, .failure(let error as PostgresClientError)) = done.next else {
            Issue.record("the outsider should be refused, not sent")
            return
        }
        #expect(call == "outsider" && error.kind == .transactionInProgress)
        #expect(started(state.next()) == "tx q2")  // the transaction carries on
    }

    // MARK: Cancelling, in each phase

    @Test func cancelledBeforeItIsQueuedItNeverStarts() {
        var state = State()
        let id = state.register()
        #expect(isNone(state.cancel(id)))
        #expect(cancelled(state.enqueue(id, sender: .connection, "q1")) == "q1")
        #expect(state.isQuiet)
    }

    @Test func cancelledWhileQueuedItEndsAtOnceAndNothingIsSent() {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "q1")
        let waiting = state.register()
        _ = state.enqueue(waiting, sender: .connection, "q2")
        guard case .finish(let call) = state.cancel(waiting) else {
            Issue.record("a queued call should end at once")
            return
        }
        #expect(call == "q2")
        #expect(state.queue.isEmpty)
        _ = state.sent("r")
        #expect(state.finish(.success([]), connectionBroken: false).next == nil)
    }

    @Test func cancelledWhileSendingTheRequestGoesOnceTheStatementsAreOut() {
        var state = State()
        let id = state.register()
        _ = state.enqueue(id, sender: .connection, "q1")
        #expect(isNone(state.cancel(id)))  // nothing to cancel on the server yet
        #expect(phase(state) == "sending q1, cancel requested")
        let sendRequestNow = state.sent("r")
        #expect(sendRequestNow)
        #expect(phase(state) == "awaiting q1 pipeline 1 armed, cancel in flight")
    }

    @Test func cancelledWhileSendingAndTheSendFailedItReportsCancellation() {
        var state = State()
        let id = state.register()
        _ = state.enqueue(id, sender: .connection, "q1")
        _ = state.cancel(id)
        let done = state.finish(.failure(PostgresClientError(.protocolError, "refused")), connectionBroken: false)
        #expect(isCancellation(done.result))
        #expect(state.isQuiet)
    }

    @Test func cancelledWhileAwaitingTheRequestIsSentOnce() {
        var state = State()
        let id = state.register()
        _ = state.enqueue(id, sender: .connection, "q1")
        _ = state.sent("r")
        #expect(isSendRequest(state.cancel(id)))
        #expect(isNone(state.cancel(id)))
        #expect(state.cancelDelivered() == nil)
        #expect(phase(state) == "awaiting q1 pipeline 1 armed, cancel delivered")
        #expect(isNone(state.cancel(id)))
    }

    @Test func nothingStartsUntilTheCancelRequestHasArrived() {
        var state = State()
        awaitCancelled(&state, "q1")
        // The statement finished before the request reached the server.
        let done = state.finish(.success([]), connectionBroken: false)
        #expect(done.call == "q1" && done.next == nil)
        #expect(phase(state) == "cancel in flight")
        #expect(!state.isQuiet)
        #expect(state.isFreeForNextUser, "a pool may lend it: the next call waits for the request")
        #expect(state.enqueue(state.register(), sender: .connection, "q2") == nil)  // it would be cancelled
        #expect(!state.isFreeForNextUser)
        #expect(started(state.cancelDelivered()) == "q2")
    }

    @Test func aCancelledStatementReportsCancellationAndOnlyThen() {
        var state = State()
        awaitCancelled(&state, "q1")
        _ = state.cancelDelivered()
        let done = state.finish(.failure(serverError("57014")), connectionBroken: false)
        #expect(isCancellation(done.result))
        #expect(state.isQuiet)

        // A statement_timeout is a 57014 the task did not ask for: it stays the server's error.
        _ = state.enqueue(state.register(), sender: .connection, "q2")
        _ = state.sent("r")
        let timedOut = state.finish(.failure(serverError("57014")), connectionBroken: false)
        #expect(serverCode(timedOut.result) == "57014")

        // Another error that beat the cancel is reported as it is.
        let other = state.register()
        _ = state.enqueue(other, sender: .connection, "q3")
        _ = state.sent("r")
        _ = state.cancel(other)
        _ = state.cancelDelivered()
        #expect(serverCode(state.finish(.failure(serverError("23505")), connectionBroken: false).result) == "23505")
    }

    @Test func cancellingAFinishedCallDoesNothing() {
        var state = State()
        let id = state.register()
        _ = state.enqueue(id, sender: .connection, "q1")
        _ = state.sent("r")
        _ = state.finish(.success([]), connectionBroken: false)
        #expect(isNone(state.cancel(id)))
        #expect(state.isQuiet)
    }

    @Test func cancellingOnABrokenOrClosedConnectionDoesNothing() {
        var broken = State()
        broken.lost(PostgresClientError(.connectionClosed, "gone"))
        #expect(isNone(broken.cancel(broken.register())))
        var closed = State()
        _ = closed.enqueue(closed.register(), sender: nil, "close")
        _ = closed.closed()
        #expect(isNone(closed.cancel(99)))
    }

    // MARK: The server dies, in each phase

    @Test func theServerDiesWhileIdle() {
        var state = State()
        state.lost(PostgresClientError(.connectionClosed, "lost while idle"))
        #expect(phase(state) == "broken")
        #expect(failure(state.enqueue(state.register(), sender: .connection, "q1"))?.message == "lost while idle")
        #expect(succeeded(state.enqueue(state.register(), sender: nil, "close")) == "close")  // nothing left to close
    }

    @Test func theServerDiesWhileSending() {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "q1")
        _ = state.enqueue(state.register(), sender: .connection, "q2")
        _ = state.enqueue(state.register(), sender: nil, "close")
        let lost = PostgresClientError(.connectionClosed, "lost while sending")
        let done = state.finish(.failure(lost), connectionBroken: true)
        #expect(done.call == "q1")
        #expect((failure(done.next))?.message == "lost while sending")  // q2 gets the same error
        #expect(succeeded(state.next()) == "close")
        #expect(state.next() == nil)
        #expect(phase(state) == "broken")
    }

    @Test func theServerDiesWhileAwaitingResults() {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "q1")
        _ = state.sent("r")
        _ = state.takeReading()
        _ = state.enqueue(state.register(), sender: .connection, "q2")
        let done = state.finish(.failure(PostgresClientError(.connectionClosed, "lost while reading")), connectionBroken: true)
        #expect(failure(done.next)?.message == "lost while reading")
        #expect(phase(state) == "broken")
        #expect(state.takeReading() == nil)
    }

    @Test func theServerDiesWhileACancelIsInFlight() {
        var state = State()
        awaitCancelled(&state, "q1")
        _ = state.enqueue(state.register(), sender: .connection, "q2")
        // The backend was terminated: no point waiting for the cancel request.
        let done = state.finish(.failure(PostgresClientError(.connectionClosed, "terminated")), connectionBroken: true)
        #expect(failure(done.next)?.message == "terminated")
        #expect(state.cancelDelivered() == nil)  // arrives late, changes nothing
        #expect(phase(state) == "broken")
    }

    @Test func theServerDiesAfterTheCancelledCallEnded() {
        var state = State()
        awaitCancelled(&state, "q1")
        _ = state.finish(.success([]), connectionBroken: false)
        _ = state.enqueue(state.register(), sender: .connection, "q2")
        // The request could not reach the server; the next send finds out.
        #expect(started(state.cancelDelivered()) == "q2")
        _ = state.finish(.failure(PostgresClientError(.connectionClosed, "gone")), connectionBroken: true)
        #expect(phase(state) == "broken")
    }

    @Test func aBrokenConnectionStaysBrokenForTransactions() throws {
        var state = State()
        let tx = try state.beginTransaction(["BEGIN"])
        _ = state.enqueue(state.register(), sender: .transaction(tx), "tx q1")
        _ = state.sent("r")
        _ = state.finish(.failure(PostgresClientError(.connectionClosed, "gone")), connectionBroken: true)
        let begun = state.finishTransaction(tx)
        #expect(begun)
        #expect(failure(state.enqueue(state.register(), sender: .ending(tx), "ROLLBACK"))?.kind == .connectionClosed)
        state.endTransaction(tx)
        #expect(!state.transaction.isOpen)
    }

    // MARK: Closing

    @Test func closingWaitsItsTurnThenRefusesEveryLaterCall() throws {
        var state = State()
        _ = state.enqueue(state.register(), sender: .connection, "q1")
        #expect(state.enqueue(state.register(), sender: nil, "close") == nil)
        #expect(state.enqueue(state.register(), sender: .connection, "q3") == nil)
        _ = state.sent("r")
        #expect(started(state.finish(.success([]), connectionBroken: false).next) == "close")
        let closed = state.closed()
        #expect(closed.call == "close")
        #expect(failure(closed.next)?.kind == .connectionClosed)  // q3
        #expect(phase(state) == "closed")
        #expect(failure(state.enqueue(state.register(), sender: .connection, "q4"))?.kind == .connectionClosed)
        #expect(succeeded(state.enqueue(state.register(), sender: nil, "close again")) == "close again")
    }

    @Test func closingIsNotRefusedByAnOpenTransaction() throws {
        var state = State()
        _ = try state.beginTransaction(["BEGIN"])
        #expect(started(state.enqueue(state.register(), sender: nil, "close")) == "close")
    }

    // MARK: Reading the steps

    /// Starts `call`, sends it and cancels it while its results are awaited: a cancel request is in flight.
    private func awaitCancelled(_ state: inout State, _ call: String) {
        let id = state.register()
        _ = state.enqueue(id, sender: .connection, call)
        _ = state.sent("r")
        guard case .sendCancelRequest = state.cancel(id) else {
            Issue.record("cancelling an awaited call should send a cancel request")
            return
        }
    }

    private func started(_ step: State.Step?) -> String? {
        guard case .start(let operation, _) = step else { return nil }
        return operation.call
    }

    private func failure(_ step: State.Step?) -> PostgresClientError? {
        guard case .finish(_, .failure(let error as PostgresClientError)) = step else { return nil }
        return error
    }

    private func succeeded(_ step: State.Step?) -> String? {
        guard case .finish(let call, .success) = step else { return nil }
        return call
    }

    private func cancelled(_ step: State.Step?) -> String? {
        guard case .finish(let call, .failure(let error)) = step, error is CancellationError else { return nil }
        return call
    }

    private func isCancellation(_ result: Result<[PostgresRows], any Error>) -> Bool {
        guard case .failure(let error) = result else { return false }
        return error is CancellationError
    }

    private func serverCode(_ result: Result<[PostgresRows], any Error>) -> String? {
        guard case .failure(let error as PostgresError) = result else { return nil }
        return error.code.code
    }

    private func isNone(_ step: State.CancelStep) -> Bool {
        if case .none = step { return true }
        return false
    }

    private func isSendRequest(_ step: State.CancelStep) -> Bool {
        if case .sendCancelRequest = step { return true }
        return false
    }

    private func serverError(_ code: String) -> PostgresError {
        PostgresError(
            code: SQLState(code), severity: "ERROR", message: "m", detail: nil, hint: nil, schema: nil, table: nil,
            column: nil, constraint: nil, position: nil, statementIndex: nil)
    }

    private func phase(_ state: State) -> String {
        switch state.phase {
        case .idle: return "idle"
        case .sending(let operation, let cancelRequested):
            return "sending \(operation.call)" + (cancelRequested ? ", cancel requested" : "")
        case .awaiting(let operation, let pipeline, let reading, let cancel):
            let suffix = switch cancel {
            case .none: ""
            case .inFlight: ", cancel in flight"
            case .delivered: ", cancel delivered"
            }
            return "awaiting \(operation.call) pipeline \(pipeline) \(reading == nil ? "taken" : "armed")\(suffix)"
        case .cancelInFlight: return "cancel in flight"
        case .broken: return "broken"
        case .closed: return "closed"
        }
    }
}

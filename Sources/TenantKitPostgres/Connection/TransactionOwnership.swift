/// Who may send statements on a connection: anyone while no transaction is open, only the open
/// transaction's own handle (``PostgresTransaction``) while one is.
///
/// Pure bookkeeping, no I/O. ``PostgresConnection`` asks it as each operation *starts* (under the
/// lock that orders its operations), so a statement from anyone else can never run between BEGIN
/// and COMMIT, and BEGIN plus the prelude go with whichever of the transaction's statements
/// actually starts first.
struct TransactionOwnership: Sendable {
    /// One transaction of one connection.
    struct ID: Hashable, Sendable {
        fileprivate let raw: UInt64
    }

    /// Who sends an operation.
    enum Sender: Hashable, Sendable {
        /// The connection's own verbs (no transaction).
        case connection
        /// A transaction's handle.
        case transaction(ID)
        /// `withTransaction` itself, sending COMMIT or ROLLBACK.
        case ending(ID)
    }

    private enum State: Sendable {
        case idle
        /// `pending` (BEGIN and the prelude) is still to be sent, by the first statement that starts.
        case open(ID, pending: [PostgresQuery])
        /// COMMIT or ROLLBACK is on its way; the handle may send no more.
        case ending(ID)
    }

    private var state = State.idle
    private var lastID: UInt64 = 0

    /// True while a transaction is open or ending.
    var isOpen: Bool {
        if case .idle = state { return false }
        return true
    }

    /// Opens a transaction whose first statement will carry `pending` (BEGIN and the prelude).
    mutating func begin(_ pending: [PostgresQuery]) throws(PostgresClientError) -> ID {
        guard case .idle = state else {
            throw PostgresClientError(
                .transactionInProgress,
                "withTransaction was called on a connection that already has an open transaction; each transaction needs a connection of its own")
        }
        lastID += 1
        let id = ID(raw: lastID)
        state = .open(id, pending: pending)
        return id
    }

    /// Throws unless `sender` may send now; changes nothing.
    func check(_ sender: Sender) throws(PostgresClientError) {
        switch (sender, state) {
        case (.connection, .idle):
            return
        case (.connection, _):
            throw PostgresClientError(
                .transactionInProgress,
                "the connection has an open transaction and this statement did not come from its handle: it was not sent")
        case (.transaction(let id), .open(let open, _)) where id == open:
            return
        case (.ending(let id), .ending(let ending)) where id == ending:
            return
        case (.transaction, _), (.ending, _):
            throw PostgresClientError(.transactionEnded, "the transaction has ended: its handle cannot send any more statements")
        }
    }

    /// Called as an operation of `sender` starts: throws unless it may send, and returns the
    /// statements that must go first (BEGIN and the prelude, for a transaction's first statement).
    mutating func start(_ sender: Sender) throws(PostgresClientError) -> [PostgresQuery] {
        try check(sender)
        guard case .transaction = sender, case .open(let id, let pending) = state, !pending.isEmpty else { return [] }
        state = .open(id, pending: [])
        return pending
    }

    /// The body of transaction `id` is done: its handle may send no more. Returns true when BEGIN
    /// was sent (so COMMIT or ROLLBACK must follow), false when nothing was.
    mutating func finish(_ id: ID) -> Bool {
        guard case .open(let open, let pending) = state, open == id else { return false }
        state = .ending(id)
        return pending.isEmpty
    }

    /// Transaction `id` is over (committed, rolled back, or its connection closed).
    mutating func end(_ id: ID) {
        switch state {
        case .open(let open, _) where open == id, .ending(let open) where open == id:
            state = .idle
        default:
            break
        }
    }
}

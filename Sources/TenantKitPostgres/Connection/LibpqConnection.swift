import CLibPQ
import Foundation
import Logging
import Synchronization

/// The libpq state of one connection. Nothing here blocks: the socket is in libpq's non-blocking
/// mode, results are read as they arrive (``advance(_:mayRead:)-(PipelineReader,_)``) and output is
/// flushed while reading, so a large pipeline cannot deadlock with the server.
///
/// `@unchecked Sendable`: used by one thread at a time, the one ``ConnectionState`` gives the turn
/// to (handed over under `PostgresConnection`'s lock, which orders one thread's use before the next).
final class LibpqConnection: @unchecked Sendable {
    private(set) var pg: OpaquePointer?
    private var statements: StatementCache
    private let noticeSink: NoticeSink
    private let configuration: PostgresConfiguration
    /// Set once the connection is unusable (the server closed it, or libpq lost track of the protocol).
    private(set) var isBroken = false
    /// Syncs sent, one per pipeline: the number of round trips made.
    private(set) var roundTrips = 0
    /// Statements prepared on the server over the connection's life.
    private(set) var preparedCount = 0
    /// Set once dynamic SQL text or a script ran (it may have left session state, or replaced a
    /// cached statement on the server); cleared by ``reset()``.
    private(set) var isTainted = false

    private init(pg: OpaquePointer, configuration: PostgresConfiguration, cacheCapacity: Int, logger: Logger) {
        self.pg = pg
        self.configuration = configuration
        self.statements = StatementCache(capacity: cacheCapacity)
        self.noticeSink = NoticeSink(logger: logger)
        PQsetNoticeReceiver(pg, { context, result in
            guard let context, let result else { return }
            Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(result)
        }, Unmanaged.passUnretained(noticeSink).toOpaque())
    }

    deinit { close() }

    /// Starts connecting without waiting (libpq's `PQconnectStartParams`): drive it with
    /// ``pollConnect()`` as the socket becomes ready, starting as if it had asked to write. Only a
    /// host name lookup can block here (libpq resolves the first host at once), so callers run this
    /// off the event loops when ``PostgresConfiguration/needsNameLookup`` says so.
    static func startConnecting(_ configuration: PostgresConfiguration, cacheCapacity: Int, logger: Logger) throws -> LibpqConnection {
        var parameters = configuration.parameters
        parameters["fallback_application_name"] = "tenantkit"
        parameters["client_encoding"] = "UTF8"
        let keywords = Array(parameters.keys)
        let values = keywords.map { parameters[$0]! }
        let connection = withCStringArray(keywords) { k in withCStringArray(values) { v in PQconnectStartParams(k, v, 0) } }
        guard let pg = connection else {
            throw PostgresClientError(.connectionFailed, "libpq could not allocate a connection")
        }
        let session = LibpqConnection(pg: pg, configuration: configuration, cacheCapacity: cacheCapacity, logger: logger)
        if PQstatus(pg) == CONNECTION_BAD { throw session.connectFailure() }
        return session
    }

    /// What a connection attempt waits for next.
    enum ConnectProgress: Equatable {
        case readable, writable, connected
    }

    /// Advances the connection attempt once its socket is ready (`PQconnectPoll`); throws when it failed.
    func pollConnect() throws -> ConnectProgress {
        guard let pg else { throw PostgresClientError(.connectionClosed, "the connection is closed") }
        switch PQconnectPoll(pg) {
        case PGRES_POLLING_READING: return .readable
        case PGRES_POLLING_WRITING: return .writable
        case PGRES_POLLING_OK:
            guard PQsetnonblocking(pg, 1) == 0 else {
                close()
                throw PostgresClientError(.connectionFailed, "cannot switch the connection to non-blocking mode")
            }
            return .connected
        default:
            throw connectFailure()
        }
    }

    /// The error for a connection attempt that took longer than `seconds` (the caller closes it).
    func connectTimedOut(after seconds: Int) -> PostgresClientError {
        PostgresClientError(.connectionFailed, "cannot connect to \(configuration): timeout expired after \(seconds) s")
    }

    private func connectFailure() -> PostgresClientError {
        let reason = pg.map { configuration.scrub(String(cString: PQerrorMessage($0))) } ?? ""
        close()
        return PostgresClientError(
            .connectionFailed, "cannot connect to \(configuration): \(reason.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    func close() {
        if let pg { PQfinish(pg) }
        pg = nil
        isBroken = true
    }

    var backendPID: Int32 { pg.map { PQbackendPID($0) } ?? 0 }
    var serverVersion: Int { pg.map { Int(PQserverVersion($0)) } ?? 0 }
    var cachedStatementCount: Int { statements.count }

    /// libpq's view of the transaction: idle, in a transaction, in a failed transaction, ...
    var transactionStatus: PGTransactionStatusType { pg.map { PQtransactionStatus($0) } ?? PQTRANS_UNKNOWN }

    /// A cancel handle for this connection, owned by the caller (free with `PQfreeCancel`).
    func makeCancelHandle() -> OpaquePointer? { pg.flatMap { PQgetCancel($0) } }

    // MARK: Pipelines

    fileprivate enum Step: Sendable {
        case deallocate
        case prepare(key: StatementCache.Key, statement: Int)
        /// `key` is nil for a statement sent unnamed.
        case execute(key: StatementCache.Key?, statement: Int)
        case sync
    }

    /// A pipeline sent (at least partly: the rest is flushed while reading) whose results are still to be read.
    struct SentPipeline: Sendable {
        fileprivate let queries: [PostgresQuery]
        fileprivate let firstReported: Int
        fileprivate let isRetry: Bool
        fileprivate let steps: [Step]
        fileprivate let needsFlush: Bool
    }

    /// Sends every statement (preparing those not yet cached) followed by one Sync, in one write:
    /// queues them all and writes what the socket takes now (the rest is flushed while reading).
    /// Never waits, so whichever thread owns the session may run it. Read the results with a
    /// ``PipelineReader``; one result per statement from `firstReported` on, statements before it (a
    /// transaction's prelude) run but are not returned.
    ///
    /// Statements between two Syncs form one implicit transaction: if one fails, the later ones are
    /// skipped and, outside an explicit transaction, the earlier ones are rolled back.
    func sendPipeline(_ queries: [PostgresQuery], firstReported: Int = 0, isRetry: Bool = false) throws -> SentPipeline {
        guard let pg, !isBroken else { throw PostgresClientError(.connectionClosed, "the connection is closed") }
        for query in queries {
            if let error = query.encodingError { throw error }
        }
        guard PQenterPipelineMode(pg) == 1 else { throw protocolFailure("cannot enter pipeline mode") }

        var steps: [Step] = []
        steps.reserveCapacity(queries.count * 2 + 1)
        for (index, query) in queries.enumerated() {
            // Marked before the send: later statements of this pipeline run after this one on the server.
            if query.isDynamic { isTainted = true }
            guard query.isCached, !isTainted else {
                let oids = query.binds.types.map { Oid($0.oid) }
                let sent = query.binds.withLibpqArrays { values, lengths, formats in
                    PQsendQueryParams(pg, query.sql, Int32(query.binds.count), oids.isEmpty ? nil : oids, values, lengths, formats, 1)
                }
                guard sent == 1 else { throw sendFailure() }
                steps.append(.execute(key: nil, statement: index))
                continue
            }
            let key = StatementCache.key(sql: query.sql, types: query.binds.types)
            let name: String
            if let cached = statements.lookup(key) {
                name = cached
            } else {
                let (newName, evicted) = statements.insert(key)
                for old in evicted {
                    // Names are unique per connection, so a DEALLOCATE that gets skipped only leaks memory.
                    guard PQsendQueryParams(pg, "DEALLOCATE \(old)", 0, nil, nil, nil, nil, 1) == 1 else {
                        throw sendFailure()
                    }
                    steps.append(.deallocate)
                }
                let oids = query.binds.types.map { Oid($0.oid) }
                guard PQsendPrepare(pg, newName, query.sql, Int32(oids.count), oids.isEmpty ? nil : oids) == 1 else {
                    throw sendFailure()
                }
                steps.append(.prepare(key: key, statement: index))
                name = newName
            }
            let sent = query.binds.withLibpqArrays { values, lengths, formats in
                PQsendQueryPrepared(pg, name, Int32(query.binds.count), values, lengths, formats, 1)
            }
            guard sent == 1 else { throw sendFailure() }
            steps.append(.execute(key: key, statement: index))
        }
        guard PQpipelineSync(pg) == 1 else { throw sendFailure() }
        steps.append(.sync)
        roundTrips += 1
        let flushed = PQflush(pg)
        if flushed < 0 { throw brokenConnection() }
        return SentPipeline(queries: queries, firstReported: firstReported, isRetry: isRetry, steps: steps, needsFlush: flushed == 1)
    }

    /// Reads what has arrived of a pipeline's results, without blocking. Returns the results once the
    /// pipeline's Sync has arrived, nil when it needs the socket to be readable again (and writable
    /// too while `reader.needsFlush`). `mayRead`: the socket was reported ready, so reading is worth a try.
    func advance(_ reader: inout PipelineReader, mayRead: Bool) throws -> [PostgresRows]? {
        guard let pg else { throw PostgresClientError(.connectionClosed, "the connection is closed") }
        var mayRead = mayRead
        while true {
            let steps = reader.sent.steps
            while reader.step < steps.count {
                let step = steps[reader.step]
                if case .sync = step {
                    let result: OpaquePointer
                    switch try nextResult(&reader.needsFlush, &mayRead) {
                    case .wouldBlock: return nil
                    case .end: throw protocolFailure("pipeline ended without its sync")
                    case .result(let next): result = next
                    }
                    if !reader.sawSyncError, PQresultStatus(result) == PGRES_FATAL_ERROR {
                        // A backend terminated mid-pipeline answers with its FATAL error and hangs up; an
                        // ERROR here is the implicit commit's (a deferred constraint), and the sync follows.
                        let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) }
                        guard PQstatus(pg) == CONNECTION_OK, severity == "ERROR" else { PQclear(result); throw brokenConnection() }
                        if reader.firstError == nil { reader.firstError = PostgresError(result: result) }
                        PQclear(result)
                        reader.sawSyncError = true
                        continue
                    }
                    defer { PQclear(result) }
                    guard PQresultStatus(result) == PGRES_PIPELINE_SYNC else { throw protocolFailure("expected the pipeline sync") }
                    reader.step += 1
                    continue
                }
                let result: OpaquePointer
                switch try nextResult(&reader.needsFlush, &mayRead) {
                case .wouldBlock: return nil
                case .end:
                    reader.step += 1
                    continue
                case .result(let next): result = next
                }
                let status = PQresultStatus(result)
                switch step {
                case .execute(let key, let statement):
                    if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY {
                        reader.results[statement] = PostgresRows(taking: result)
                        continue
                    }
                    if status == PGRES_FATAL_ERROR {
                        reader.report(result, statement: statement)
                        // The server dropped or invalidated the prepared statement: prepare afresh next time.
                        let code = PostgresError(result: result).code
                        if let key, code == SQLState("26000") || code == .featureNotSupported { statements.remove(key) }
                    } else if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                        isBroken = true
                        PQclear(result)
                        throw PostgresClientError(.protocolError, "COPY is not supported through query(); the connection was closed")
                    }
                case .prepare(let key, let statement):
                    if status == PGRES_COMMAND_OK {
                        preparedCount += 1
                    } else {
                        statements.remove(key)
                        if status == PGRES_FATAL_ERROR { reader.report(result, statement: statement) }
                    }
                case .deallocate, .sync:
                    break
                }
                PQclear(result)
            }
            guard PQexitPipelineMode(pg) == 1 else { throw protocolFailure("cannot leave pipeline mode") }
            let sent = reader.sent
            if let firstError = reader.firstError {
                // A cached statement went stale (its table changed shape, or the server forgot it). Outside a
                // transaction the failed pipeline was rolled back as a whole, so running it again is safe.
                let stale = firstError.code == SQLState("26000")
                    || (firstError.code == .featureNotSupported && firstError.message.hasPrefix("cached plan must not change"))
                if stale, !sent.isRetry, PQtransactionStatus(pg) == PQTRANS_IDLE {
                    reader = PipelineReader(try sendPipeline(sent.queries, firstReported: sent.firstReported, isRetry: true))
                    mayRead = false
                    continue
                }
                throw firstError
            }
            return reader.results[sent.firstReported...].map { $0! }
        }
    }

    /// Starts SQL text through the simple query protocol: several statements, no binds, text results
    /// (ignored). For migration scripts and DDL; taints the session. Read it with ``advance(_:mayRead:)-(SimpleQueryReader,_)``.
    func startScript(_ sql: String) throws -> SimpleQueryReader {
        guard pg != nil, !isBroken else { throw PostgresClientError(.connectionClosed, "the connection is closed") }
        isTainted = true
        return try startSimpleQuery(sql)
    }

    /// Starts clearing all session state (`DISCARD ALL`: settings, temporary objects, `LISTEN`s,
    /// advisory locks, prepared statements, cursors), one round trip; ``finishReset()`` once it is read.
    func startReset() throws -> SimpleQueryReader {
        try startSimpleQuery("DISCARD ALL")
    }

    /// The statement cache and buffered notifications go with the session state `DISCARD ALL` dropped.
    func finishReset() {
        statements.removeAll()
        if let pg {
            // Notifications of the dropped LISTENs, still buffered by libpq: not for the next user.
            while let notification = PQnotifies(pg) { PQfreemem(notification) }
        }
        isTainted = false
    }

    private func startSimpleQuery(_ sql: String) throws -> SimpleQueryReader {
        guard let pg, !isBroken else { throw PostgresClientError(.connectionClosed, "the connection is closed") }
        guard PQsendQuery(pg, sql) == 1 else { throw sendFailure() }
        roundTrips += 1
        return SimpleQueryReader()
    }

    /// Reads what has arrived of a simple query's results, without blocking: true once all are in
    /// (throwing the first error), false when it needs the socket again.
    func advance(_ reader: inout SimpleQueryReader, mayRead: Bool) throws -> Bool {
        var mayRead = mayRead
        while true {
            let result: OpaquePointer
            switch try nextResult(&reader.needsFlush, &mayRead) {
            case .wouldBlock: return false
            case .end:
                if let firstError = reader.firstError { throw firstError }
                return true
            case .result(let next): result = next
            }
            let status = PQresultStatus(result)
            if status == PGRES_FATAL_ERROR, reader.firstError == nil { reader.firstError = PostgresError(result: result) }
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                PQclear(result)
                isBroken = true
                throw PostgresClientError(.protocolError, "COPY is not supported in scripts; the connection was closed")
            }
            PQclear(result)
        }
    }

    /// True when an idle connection is still alive. Reads anything the server sent while idle (a
    /// termination notice, or end of file when the server went away) without blocking.
    func checkAliveWhileIdle() -> Bool {
        guard let pg, !isBroken, PQstatus(pg) == CONNECTION_OK else { return false }
        // A terminated backend sends an error and then closes: libpq may read the two in separate
        // calls, so keep reading while the socket has something.
        for _ in 0..<8 {
            let ready = tk_wait_socket(PQsocket(pg), 1, 0, 0)
            if ready == 0 { break }
            if ready < 0 || PQconsumeInput(pg) == 0 || PQstatus(pg) != CONNECTION_OK {
                isBroken = true
                return false
            }
            // Drop anything unsolicited (there should be nothing but notices).
            while PQisBusy(pg) == 0, let result = PQgetResult(pg) { PQclear(result) }
            if noticeSink.sawFatal {  // the server is closing this connection
                isBroken = true
                return false
            }
        }
        return PQstatus(pg) == CONNECTION_OK
    }

    // MARK: Reading without blocking

    enum Next {
        case result(OpaquePointer)
        /// The end of one statement's results (libpq's NULL result).
        case end
        /// Nothing more until the socket is ready again.
        case wouldBlock
    }

    /// The next result, the end of a statement's results, or `wouldBlock`; flushes pending output,
    /// and reads the socket once when `mayRead` (it was reported ready). Throws when the connection breaks.
    private func nextResult(_ needsFlush: inout Bool, _ mayRead: inout Bool) throws -> Next {
        guard let pg else { throw PostgresClientError(.connectionClosed, "the connection is closed") }
        while true {
            if needsFlush {
                let flushed = PQflush(pg)
                if flushed < 0 { throw brokenConnection() }
                needsFlush = flushed == 1
            }
            if PQisBusy(pg) == 0 {
                let result = PQgetResult(pg)
                if result == nil && PQstatus(pg) != CONNECTION_OK { throw brokenConnection() }
                return result.map(Next.result) ?? .end
            }
            guard mayRead else { return .wouldBlock }
            // Level-triggered readiness: whatever this one read leaves in the socket is reported again.
            mayRead = false
            if PQconsumeInput(pg) == 0 { throw brokenConnection() }
        }
    }

    /// The descriptor libpq reads and writes, or -1 once libpq closed it (the connection broke).
    var socket: Int32 { pg.map { PQsocket($0) } ?? -1 }

    private func brokenConnection() -> PostgresClientError {
        isBroken = true
        let reason = pg.map { String(cString: PQerrorMessage($0)) } ?? "closed"
        return PostgresClientError(
            .connectionClosed,
            "the connection to the server was lost: \(configuration.scrub(reason).trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    private func sendFailure() -> PostgresClientError {
        if let pg, PQstatus(pg) != CONNECTION_OK { return brokenConnection() }
        return protocolFailure("libpq refused to send")
    }

    private func protocolFailure(_ what: String) -> PostgresClientError {
        isBroken = true
        let reason = pg.map { String(cString: PQerrorMessage($0)) } ?? ""
        return PostgresClientError(
            .protocolError, "\(what): \(reason.trimmingCharacters(in: .whitespacesAndNewlines)); the connection was closed")
    }
}

/// The reading state of one pipeline, resumable between readiness events (see ``LibpqConnection/advance(_:mayRead:)-(PipelineReader,_)``).
struct PipelineReader: Sendable {
    fileprivate(set) var sent: LibpqConnection.SentPipeline
    /// Output libpq still has queued: wait for writability too.
    fileprivate(set) var needsFlush: Bool
    fileprivate var step = 0
    /// The Sync step met the implicit commit's ERROR; the Sync itself follows.
    fileprivate var sawSyncError = false
    fileprivate var results: [PostgresRows?]
    fileprivate var firstError: PostgresError?

    init(_ sent: LibpqConnection.SentPipeline) {
        self.sent = sent
        self.needsFlush = sent.needsFlush
        self.results = [PostgresRows?](repeating: nil, count: sent.queries.count)
    }

    fileprivate mutating func report(_ result: OpaquePointer, statement: Int) {
        guard firstError == nil else { return }
        var error = PostgresError(result: result)
        if sent.queries.count - sent.firstReported > 1 && statement >= sent.firstReported {
            error.statementIndex = statement - sent.firstReported
        }
        firstError = error
    }
}

/// The reading state of one simple query (a script, or `DISCARD ALL`).
struct SimpleQueryReader: Sendable {
    /// PQsendQuery leaves its output to be flushed.
    fileprivate(set) var needsFlush = true
    fileprivate var firstError: PostgresError?
}

/// Routes server notices (`NOTICE: ...`) to the logger instead of libpq's default of stderr, and
/// remembers a FATAL message that arrived while idle (a terminated backend says so before it closes).
private final class NoticeSink: Sendable {
    let logger: Logger
    private let fatal = Atomic<Bool>(false)
    var sawFatal: Bool { fatal.load(ordering: .relaxed) }
    init(logger: Logger) { self.logger = logger }
    func receive(_ result: OpaquePointer) {
        let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? ""
        if severity == "FATAL" || severity == "PANIC" { fatal.store(true, ordering: .relaxed) }
        let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
        logger.debug("server notice", metadata: ["notice": "\(message.trimmingCharacters(in: .whitespacesAndNewlines))"])
    }
}

extension PostgresError {
    /// Reads the error fields of a failed result.
    init(result: OpaquePointer) {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        self.init(
            code: SQLState(field("C") ?? "XX000"),
            severity: field("V") ?? field("S") ?? "ERROR",
            message: field("M") ?? String(cString: PQresultErrorMessage(result)),
            detail: field("D"),
            hint: field("H"),
            schema: field("s"),
            table: field("t"),
            column: field("c"),
            constraint: field("n"),
            position: field("P").flatMap { Int($0) },
            statementIndex: nil)
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

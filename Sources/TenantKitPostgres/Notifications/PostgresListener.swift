import CLibPQ
import Foundation
import Logging
import Synchronization

/// A dedicated connection that `LISTEN`s on channels and delivers what arrives, for as long as it
/// runs: reconnecting (with a growing pause) when the server goes away.
///
/// ```swift
/// let listener = PostgresListener(configuration: config, channels: ["tenantkit_sessions"])
/// for await event in listener.events {
///     if case .notification(let channel, let payload) = event { ... }
/// }
/// ```
///
/// It waits on its own thread, never on Swift's cooperative pool. Notifications sent while it was
/// reconnecting are lost: PostgreSQL keeps none for a listener that is not connected, so after
/// ``Event/connected`` a subscriber should re-check whatever it follows.
public final class PostgresListener: Sendable {
    /// What the listener reports.
    public enum Event: Sendable, Equatable {
        /// Listening (again): anything sent while it was not may have been missed.
        case connected
        /// A `NOTIFY` on one of the channels.
        case notification(channel: String, payload: String)
    }

    /// Everything the listener reports, until ``stop()``.
    public let events: AsyncStream<Event>
    private let stopped = StopFlag()

    /// Starts listening on `channels` (plain identifiers) in the background. Payloads `accepting`
    /// refuses are dropped on the listener's thread (anyone may NOTIFY any channel). At most
    /// `buffer` events wait for a slow consumer; when more arrive the oldest are dropped and a
    /// ``Event/connected`` follows, so the consumer re-checks everything.
    public init(
        configuration: PostgresConfiguration, channels: [String], accepting: @escaping @Sendable (String) -> Bool = { _ in true },
        buffer: Int = 1024, logger: Logger = Logger(label: "tenantkit.listener")
    ) {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(buffer))
        self.events = events
        let stopped = self.stopped
        let thread = Thread { Self.run(configuration, channels, accepting, logger, stopped, continuation) }
        thread.name = "tenantkit.listener"
        thread.start()
        continuation.onTermination = { [weak self] _ in self?.stop() }
    }

    deinit { stop() }

    /// Stops listening and ends ``events`` (within a quarter of a second).
    public func stop() { stopped.raise() }

    private static func run(
        _ configuration: PostgresConfiguration, _ channels: [String], _ accepting: @Sendable (String) -> Bool, _ logger: Logger,
        _ stopped: StopFlag, _ continuation: AsyncStream<Event>.Continuation
    ) {
        var pause = 0.25
        while !stopped.isRaised {
            if let pg = connect(configuration, channels, logger) {
                let connectedAt = Date()
                continuation.yield(.connected)
                listen(pg, accepting, stopped, continuation)
                PQfinish(pg)
                // A connection that keeps being killed right away backs off like one that cannot connect.
                if Date().timeIntervalSince(connectedAt) > 30 { pause = 0.25 }
            }
            if stopped.isRaised { break }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 5)
        }
        continuation.finish()
    }

    /// A connection listening on every channel, or nil (logged) when that failed.
    private static func connect(_ configuration: PostgresConfiguration, _ channels: [String], _ logger: Logger) -> OpaquePointer? {
        var parameters = configuration.parameters
        parameters["connect_timeout"] = parameters["connect_timeout"] ?? "10"
        parameters["fallback_application_name"] = "tenantkit listener"
        // A half-open TCP connection is noticed within about a minute (ignored on Unix sockets).
        parameters["keepalives"] = parameters["keepalives"] ?? "1"
        parameters["keepalives_idle"] = parameters["keepalives_idle"] ?? "30"
        parameters["keepalives_interval"] = parameters["keepalives_interval"] ?? "10"
        parameters["keepalives_count"] = parameters["keepalives_count"] ?? "3"
        let keywords = Array(parameters.keys), values = keywords.map { parameters[$0]! }
        let pg = keywords.withCStrings { k in values.withCStrings { v in PQconnectdbParams(k, v, 0) } }
        guard let pg, PQstatus(pg) == CONNECTION_OK else {
            let reason = pg.map { configuration.scrub(String(cString: PQerrorMessage($0))) } ?? "out of memory"
            logger.warning("listener cannot connect; retrying", metadata: ["error": "\(reason.trimmingCharacters(in: .whitespacesAndNewlines))"])
            if let pg { PQfinish(pg) }
            return nil
        }
        for channel in channels {
            let result = PQexec(pg, "LISTEN " + PostgresIdentifier(channel).quoted)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                logger.warning("listener cannot LISTEN; retrying", metadata: ["channel": "\(channel)"])
                PQfinish(pg)
                return nil
            }
        }
        return pg
    }

    /// Delivers notifications until the connection breaks or the listener stops. Every 30 seconds of
    /// silence it asks the server something, so a dead connection is found and replaced.
    private static func listen(
        _ pg: OpaquePointer, _ accepting: @Sendable (String) -> Bool, _ stopped: StopFlag, _ continuation: AsyncStream<Event>.Continuation
    ) {
        var lastHeard = Date()
        var overflowed = false
        while !stopped.isRaised {
            // Notifications that came in with LISTEN's own answer are already buffered.
            while let notification = PQnotifies(pg) {
                let payload = String(cString: notification.pointee.extra)
                if accepting(payload) {
                    let result = continuation.yield(.notification(channel: String(cString: notification.pointee.relname), payload: payload))
                    if case .dropped = result { overflowed = true }
                }
                PQfreemem(notification)
            }
            if overflowed {
                overflowed = false
                continuation.yield(.connected)  // events were lost: re-check everything
            }
            let socket = PQsocket(pg)
            guard socket >= 0, PQstatus(pg) == CONNECTION_OK else { return }
            let ready = tk_wait_socket(socket, 1, 0, 250)
            if ready < 0 && errno != EINTR { return }
            if ready > 0 {
                guard PQconsumeInput(pg) == 1 else { return }
                lastHeard = Date()
            } else if Date().timeIntervalSince(lastHeard) > 30 {
                let result = PQexec(pg, "SELECT 1")
                defer { PQclear(result) }
                guard PQresultStatus(result) == PGRES_TUPLES_OK else { return }
                lastHeard = Date()
            }
        }
    }
}

/// Set once, read by the listener's thread.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isRaised: Bool { value.load(ordering: .relaxed) }
    func raise() { value.store(true, ordering: .relaxed) }
}

extension Array where Element == String {
    /// `body` with the strings as a NULL-terminated C array.
    fileprivate func withCStrings<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

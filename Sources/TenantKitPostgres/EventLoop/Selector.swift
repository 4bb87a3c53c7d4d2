import CLibPQ
import Foundation
import Synchronization

/// The readiness wait of one ``PostgresEventLoop``: epoll on Linux (with an eventfd to wake it),
/// `poll()` elsewhere (with a pipe). Sockets are one-shot: armed, reported once, then quiet until
/// armed again, so a connection nobody is reading from never wakes the loop.
final class Selector: Sendable {
    /// The token reported for the wake-up descriptor; socket tokens are object addresses, never 0.
    static let wakeToken: UInt64 = 0

    /// Events fetched by one wait.
    struct Events {
        var tokens = [UInt64](repeating: 0, count: 64)
        /// 1: readable (or hung up), 2: writable.
        var ready = [UInt32](repeating: 0, count: 64)
        var count = 0
    }

    #if os(Linux) && !TENANTKIT_POLL_SELECTOR
    private let epoll: Int32
    private let wakeFD: Int32

    init() {
        epoll = tk_epoll_create()
        wakeFD = tk_eventfd()
        precondition(epoll >= 0 && wakeFD >= 0, "cannot create the event loop's epoll or eventfd descriptor: errno \(errno)")
        precondition(tk_epoll_add_persistent(epoll, wakeFD, Self.wakeToken) == 0, "cannot watch the event loop's eventfd")
    }

    func add(fd: Int32, token: UInt64) -> Bool { tk_epoll_add(epoll, fd, token) == 0 }

    func arm(fd: Int32, token: UInt64, writable: Bool, fromLoop: Bool) -> Bool {
        tk_epoll_arm(epoll, fd, token, writable ? 1 : 0) == 0
    }

    func remove(fd: Int32) { _ = tk_epoll_remove(epoll, fd) }

    func wait(_ events: inout Events, timeoutMillis: Int32) {
        let n = events.tokens.withUnsafeMutableBufferPointer { tokens in
            events.ready.withUnsafeMutableBufferPointer { ready in
                tk_epoll_wait(epoll, tokens.baseAddress, ready.baseAddress, Int32(tokens.count), timeoutMillis)
            }
        }
        events.count = max(0, Int(n))  // EINTR: nothing this time
    }

    func wake() { tk_eventfd_signal(wakeFD) }
    func drainWake() { tk_eventfd_drain(wakeFD) }

    // Closed only when nothing can reach the selector any more: a loop that stopped may still be
    // woken by a late `execute`, and a closed eventfd's number may belong to a database socket by
    // then (an 8-byte wake-up written into a connection is a protocol error for its server).
    deinit {
        tk_close(wakeFD)
        tk_close(epoll)
    }
    #else
    /// Armed sockets: descriptor to token and whether writability counts too.
    private let armed = Mutex<[Int32: (token: UInt64, writable: Bool)]>([:])
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "cannot create the event loop's wake-up pipe: errno \(errno)")
        wakeRead = fds[0]
        wakeWrite = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    func add(fd: Int32, token: UInt64) -> Bool { true }

    func arm(fd: Int32, token: UInt64, writable: Bool, fromLoop: Bool) -> Bool {
        armed.withLock { $0[fd] = (token, writable) }
        // The loop builds its poll set before each wait: a wait already under way must restart.
        if !fromLoop { wake() }
        return true
    }

    func remove(fd: Int32) { _ = armed.withLock { $0.removeValue(forKey: fd) } }

    func wait(_ events: inout Events, timeoutMillis: Int32) {
        let watched = armed.withLock { $0 }
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        var tokens: [UInt64] = [Self.wakeToken]
        for (fd, entry) in watched {
            fds.append(pollfd(fd: fd, events: Int16(POLLIN) | (entry.writable ? Int16(POLLOUT) : 0), revents: 0))
            tokens.append(entry.token)
        }
        events.count = 0
        guard poll(&fds, nfds_t(fds.count), timeoutMillis) > 0 else { return }
        for (index, entry) in fds.enumerated() where entry.revents != 0 && events.count < events.tokens.count {
            let readable = entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
            let writable = entry.revents & Int16(POLLOUT | POLLERR) != 0
            // One-shot, like epoll: reported once until armed again.
            if index > 0 { armed.withLock { if $0[entry.fd]?.token == tokens[index] { $0[entry.fd] = nil } } }
            events.tokens[events.count] = tokens[index]
            events.ready[events.count] = (readable ? 1 : 0) | (writable ? 2 : 0)
            events.count += 1
        }
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    // See the epoll version: the descriptors live as long as the selector.
    deinit {
        tk_close(wakeRead)
        tk_close(wakeWrite)
    }
    #endif
}

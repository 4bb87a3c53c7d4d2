import CLibPQ

/// A connection's libpq cancel handle: sends a server-side cancel request for whatever statement
/// the connection's backend runs now. *Which* statement that is, and when a request may be sent,
/// is ``ConnectionState``'s business.
final class CancelRequest: Sendable {
    // Safe to share: the handle never changes after PQgetCancel, PQcancel is documented
    // thread-safe, and it is freed in deinit, when no send can be running.
    private nonisolated(unsafe) let handle: OpaquePointer?

    init(_ handle: OpaquePointer?) { self.handle = handle }

    deinit { if let handle { PQfreeCancel(handle) } }

    /// Sends the request and waits until the server has it (or refused the connection): blocks, so
    /// never call it on an event loop or Swift's cooperative pool.
    func send() {
        guard let handle else { return }
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(handle, &message, Int32(message.count))
    }
}

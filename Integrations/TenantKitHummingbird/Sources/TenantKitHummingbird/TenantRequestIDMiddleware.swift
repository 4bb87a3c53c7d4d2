import HTTPTypes
import Hummingbird
import Logging

/// The id of the request this task serves, set by ``TenantRequestIDMiddleware``.
public enum TenantRequestID {
    /// The current request's id, or nil outside a request.
    @TaskLocal public static var current: String?

    /// Adds `request_id` to every log line written while a request runs, also by loggers that know
    /// nothing of the request, such as the pool's: create them with this provider (or bootstrap
    /// the logging system with it) to find a request's database log lines by its id.
    ///
    /// ```swift
    /// let pool = PostgresPool(configuration: configuration,
    ///                         logger: Logger(label: "tenantkit.pool", metadataProvider: TenantRequestID.metadataProvider))
    /// ```
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = current else { return [:] }
        return ["request_id": .string(id)]
    }

    /// The `x-request-id` header.
    public static let headerName = HTTPField.Name("x-request-id")!

    /// Whether a client's id is safe to forward into logs: 1 to 128 of `A-Z a-z 0-9 . _ : -`
    /// (no spaces, quotes or line breaks that could forge a log line).
    static func isAcceptable(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}

/// Gives every request an id: the client's `x-request-id` when it is acceptable, else
/// Hummingbird's own request id (`hb.request.id`).
/// The id goes into the request logger's metadata (`request_id`), into ``TenantRequestID/current``
/// for loggers created with ``TenantRequestID/metadataProvider``, and back to the client in the
/// response's `x-request-id`. Add it first, so every later middleware logs with it.
public struct TenantRequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Whether a client's (or a proxy's) acceptable id is forwarded.
    public let trustsIncomingIDs: Bool

    /// - Parameter trustsIncomingIDs: forward a client's (or a proxy's) id; false always makes a new one.
    public init(trustsIncomingIDs: Bool = true) {
        self.trustsIncomingIDs = trustsIncomingIDs
    }

    /// Calls `next` with the id in the logger and ``TenantRequestID/current``, and returns it in the response.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let incoming = trustsIncomingIDs ? request.headers[TenantRequestID.headerName] : nil
        // Else Hummingbird's own id for the request, so a log line does not carry two different ones.
        let id = incoming.flatMap { TenantRequestID.isAcceptable($0) ? $0 : nil }
            ?? context.logger[metadataKey: "hb.request.id"]?.description ?? RequestID().description
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await TenantRequestID.$current.withValue(id) { try await next(request, context) }
        response.headers[TenantRequestID.headerName] = id
        return response
    }
}

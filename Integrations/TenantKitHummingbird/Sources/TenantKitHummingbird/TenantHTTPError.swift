import Foundation
import Hummingbird
import TenantKitPostgres
import TenantKit

/// An error as the client sees it: a status, a stable machine-readable code and a generic message.
///
/// The body is `{"error":{"code":"...","message":"..."}}` and never carries tenant data (no
/// organization ids, names, emails or balances), whatever the underlying error said: a client
/// branches on `code`, the details go to the server's log.
///
/// | status | code | from |
/// | --- | --- | --- |
/// | 401 | `unauthenticated`, `invalid_api_key`, `invalid_session` | no or bad credential |
/// | 402 | `insufficient_credits` | ``TenantKit/TenantError/insufficientCredits(balance:requested:)`` |
/// | 403 | `forbidden`, `not_a_member`, `pinned_to_api_key_organization`, `invitation_wrong_email` | roles, membership |
/// | 404 | `not_found`, `invitation_not_found` | unknown rows and tokens |
/// | 409 | `already_exists`, `last_admin`, `organization_switched`, `no_active_organization` | state conflicts |
/// | 410 | `invitation_expired`, `invitation_used` | spent invitations |
/// | 422 | `invalid_input` | refused values |
/// | 500 | `internal_error` | `PostgresError` and anything else |
public struct TenantHTTPError: HTTPResponseError, Sendable, Equatable {
    /// The response's status.
    public let status: HTTPResponse.Status
    /// Stable across releases: clients may branch on it.
    public let code: String
    /// Generic, for people; never names tenant data.
    public let message: String

    /// An error of the application's own in the same shape; keep `message` free of tenant data.
    public init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// No credential was presented, or a session cookie is unknown or expired.
    public static let unauthenticated = TenantHTTPError(status: .unauthorized, code: "unauthenticated", message: "Authentication is required.")
    /// Anything that is not a rule of the organization model: a bug or an outage, not the client's business.
    public static let internalError = TenantHTTPError(status: .internalServerError, code: "internal_error", message: "Internal server error.")

    /// The client's view of `error`: each ``TenantKit/TenantError`` by its case, a key the database
    /// refused (SQLSTATE TK007) as `invalid_api_key`, an existing ``TenantHTTPError`` as itself,
    /// anything else as ``internalError``.
    public init(mapping error: any Error) {
        switch error {
        case let error as TenantHTTPError: self = error
        case let error as TenantError: self = Self.mapping(error)
        case let error as PostgresError where error.code == SQLState("TK007"): self = Self.mapping(TenantError.invalidAPIKey)
        default: self = .internalError
        }
    }

    /// Every case spelled out, without a default: a new ``TenantKit/TenantError`` case does not compile
    /// until it has its status.
    static func mapping(_ error: TenantError) -> TenantHTTPError {
        switch error {
        case .invalidAPIKey:
            TenantHTTPError(status: .unauthorized, code: "invalid_api_key", message: "The API key is not valid.")
        case .invalidSession:
            TenantHTTPError(status: .unauthorized, code: "invalid_session", message: "The session is not valid; sign in again.")
        case .insufficientCredits:
            TenantHTTPError(status: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), code: "insufficient_credits", message: "The ECU balance is too low for this.")
        case .forbidden:
            TenantHTTPError(status: .forbidden, code: "forbidden", message: "Your role does not allow this.")
        case .notAMember:
            TenantHTTPError(status: .forbidden, code: "not_a_member", message: "You are not a member of this organization.")
        case .pinnedToAPIKeyOrganization:
            TenantHTTPError(status: .forbidden, code: "pinned_to_api_key_organization", message: "An API key works in its own organization only.")
        case .notFound:
            TenantHTTPError(status: .notFound, code: "not_found", message: "Not found.")
        case .alreadyExists:
            TenantHTTPError(status: .conflict, code: "already_exists", message: "This already exists.")
        case .lastAdmin:
            TenantHTTPError(status: .conflict, code: "last_admin", message: "An organization needs at least one admin.")
        case .orgSwitched:
            TenantHTTPError(status: .conflict, code: "organization_switched", message: "The active organization changed while this request ran.")
        case .noActiveOrganization:
            TenantHTTPError(status: .conflict, code: "no_active_organization", message: "No organization is active.")
        case .invalidInput:
            TenantHTTPError(status: .unprocessableContent, code: "invalid_input", message: "The request is not valid.")
        case .invitationRejected(let reason):
            switch reason {
            case .unknownToken:
                TenantHTTPError(status: .notFound, code: "invitation_not_found", message: "The invitation was not found.")
            case .expired:
                TenantHTTPError(status: .gone, code: "invitation_expired", message: "The invitation has expired.")
            case .alreadyUsed:
                TenantHTTPError(status: .gone, code: "invitation_used", message: "The invitation was already accepted or revoked.")
            case .wrongEmail:
                TenantHTTPError(status: .forbidden, code: "invitation_wrong_email", message: "The invitation was sent to another email address.")
            }
        }
    }

    /// The JSON body, keys in a fixed order.
    public var body: String {
        struct Body: Encodable { let error: Inner }
        struct Inner: Encodable { let code: String; let message: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Two plain strings always encode.
        return String(decoding: try! encoder.encode(Body(error: Inner(code: code, message: message))), as: UTF8.self)
    }

    /// The JSON response; a 401 also says `WWW-Authenticate: Bearer`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Turns errors thrown below it into ``TenantHTTPError`` responses and logs what they hid.
///
/// Errors that already are responses (Hummingbird's `HTTPError`, an app's own
/// `HTTPResponseError`) pass through unchanged. Add it after ``TenantRequestIDMiddleware`` and
/// before ``TenantAuthMiddleware``, so the error's log line carries the request id and the
/// middleware's own 401s get the JSON body.
public struct TenantErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The middleware; it has no settings.
    public init() {}

    /// Calls `next`, answering its errors as ``TenantHTTPError`` responses.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where !(error is TenantHTTPError) {
            throw error
        } catch {
            let mapped = TenantHTTPError(mapping: error)
            // The log may say what the body must not; PostgresError's description omits bind values.
            if mapped.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            } else {
                context.logger.debug("request refused", metadata: ["error.code": "\(mapped.code)", "error": "\(error)"])
            }
            return try mapped.response(from: request, context: context)
        }
    }
}

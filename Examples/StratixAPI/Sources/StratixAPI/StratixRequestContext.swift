import Foundation
import Hummingbird
import TenantKit
import TenantKitHummingbird

/// The request context of the Stratix API: the integration's tenant state (the principal, the
/// active organization and, on cookie requests, the live persistent session) with the API's JSON.
///
/// Handlers read and write through the integration's `read(_:)` and `write(_:)` rather than
/// through `activeOrg` directly: on a cookie request they go through the `OrgSession`, so a switch
/// made on any instance cancels and re-issues the request's reads in flight (TenantKit's switching
/// semantics); an API-key request runs in its key's organization, which never changes.
public struct StratixRequestContext: TenantRequestContextProtocol {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// Set by the integration's `TenantAuthMiddleware`.
    public var tenant: TenantRequestState

    /// A context for a new request, with nobody authenticated yet.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        tenant = TenantRequestState()
    }

    /// JSON with ISO 8601 dates, both ways.
    public var requestDecoder: JSONDecoder { StratixJSON.decoder() }
    /// JSON with ISO 8601 dates, both ways.
    public var responseEncoder: JSONEncoder { StratixJSON.encoder() }
}

/// The API's JSON settings, shared by the server and its tests.
public enum StratixJSON {
    /// Dates as ISO 8601 text, keys sorted (stable bodies).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// Reads what ``encoder()`` writes.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension StratixRequestContext {
    /// The signed-in user and their persistent session. An API key gets
    /// `TenantError.pinnedToAPIKeyOrganization` (403): it acts in its own organization only.
    func requireUser() throws -> (userID: UUID, session: OrgSession) {
        let session = try requireOrgSession()
        guard case .user(let userID) = try requirePrincipal() else { throw TenantError.pinnedToAPIKeyOrganization }
        return (userID, session)
    }
}

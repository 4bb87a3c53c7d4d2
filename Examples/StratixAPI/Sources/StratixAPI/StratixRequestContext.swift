import Foundation
import Hummingbird
import TenantKit
import TenantKitHummingbird

/// The request context of the Stratix API: the integration's tenant state, plus the signed-in
/// user's live persistent session on cookie requests.
///
/// Handlers read and write through ``read(_:)`` and ``write(_:)`` rather than through
/// `activeOrg` directly: on a cookie request they go through the `OrgSession`, so a switch made on
/// any instance cancels and re-issues the request's reads in flight (TenantKit's switching
/// semantics); an API-key request runs in its key's organization, which never changes.
public struct StratixRequestContext: TenantRequestContextProtocol {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// Set by ``StratixAuthMiddleware`` (through the integration's `TenantAuthMiddleware`).
    public var tenant: TenantRequestState
    /// The persistent session a session cookie named; nil for API keys and anonymous requests.
    public internal(set) var orgSession: OrgSession?

    /// A context for a new request, with nobody authenticated yet.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        tenant = TenantRequestState()
        orgSession = nil
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
        switch try requirePrincipal() {
        case .apiKey:
            throw TenantError.pinnedToAPIKeyOrganization
        case .user(let userID):
            // The middleware sets both for every cookie request; a missing session is a bug, not the client's.
            guard let orgSession else { throw TenantHTTPError.unauthenticated }
            return (userID, orgSession)
        }
    }

    /// Runs a read in the active organization: through the session on a cookie request (re-issued
    /// in the new organization if a switch lands meanwhile), in the key's organization otherwise.
    func read<T: Sendable>(_ body: @escaping @Sendable (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        if let orgSession { return try await orgSession.read(body) }
        let org = try requireActiveOrg()
        return Scoped(orgID: org.id, value: try await body(org))
    }

    /// Runs a write in the active organization: a switch that lands meanwhile rolls it back and
    /// fails it with `TenantError.orgSwitched` (409), never replays it elsewhere.
    func write<T: Sendable>(_ body: @escaping @Sendable (ActiveOrg) async throws -> T) async throws -> Scoped<T> {
        if let orgSession { return try await orgSession.write(body) }
        let org = try requireActiveOrg()
        return Scoped(orgID: org.id, value: try await body(org))
    }
}

import Foundation
import TenantKitPostgres
import TenantSQL

/// The organization's API keys (admins only). A key acts in its organization with the member role.
///
/// Key format: `tk_<key id>_<org id>_<43 base64url>` (see `APIKeyText`): the ids scope a request
/// without a lookup, and the database checks the whole key's SHA-256 with every statement. The
/// visible prefix is `tk_<key id>`; prefixes and hashes are unique across all organizations.
public struct APIKeyRepository: Sendable {
    let scope: OrgScope

    public func create(name: String) async throws -> IssuedAPIKey {
        let name = try validatedName(name, "a key name")
        let keyID = UUID()
        let (secret, prefix) = APIKeyText.generate(orgID: scope.orgID, keyID: keyID)
        let key = try await scope.transaction { tx in
            try await tx.require(.admin, to: "creating API keys")
            let k = APIKeysTable.table
            let key = try await tx.fetchOne(
                Insert.into(k).values(k.id.set(keyID), k.name.set(name), k.prefix.set(prefix), k.keyHash.set(Secret.hash(secret)))
                    .returning(Self.columns(k)),
                as: APIKey.self)
            try await tx.audit("api_key.created", target: key.id.uuidString.lowercased(), details: ["name": name, "prefix": prefix])
            return key
        }
        return IssuedAPIKey(key: key, secret: secret)
    }

    /// Every key of the organization, newest first (admins only).
    public func list() async throws -> [APIKey] {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "listing API keys")
            let k = APIKeysTable.table
            return try await tx.fetchAll(Select.from(k).columns(Self.columns(k)).orderBy(k.createdAt.desc, k.id.asc), as: APIKey.self)
        }
    }

    /// Keys, newest first, `limit` at a time (admins only).
    public func page(after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<APIKey> {
        let limit = try checkedPageLimit(limit, "keys")
        let after = try cursor.map { try $0.dateAndID(of: "api_keys") }
        let keys = try await scope.transaction { tx in
            try await tx.require(.admin, to: "listing API keys")
            let k = APIKeysTable.table
            return try await tx.fetchAll(
                Select.from(k).columns(Self.columns(k)).keysetPage(by: k.createdAt, k.id, after: after, descending: true, limit: limit), as: APIKey.self)
        }
        let next = keys.count == limit ? keys.last.map { PageCursor(listing: "api_keys", after: $0.createdAt, $0.id) } : nil
        return Page(items: keys, next: next)
    }

    /// Revokes a key (admins only); it stops authenticating at once.
    public func revoke(_ id: UUID) async throws {
        try await scope.transaction { tx in
            try await tx.require(.admin, to: "revoking API keys")
            let k = APIKeysTable.table
            let changed = try await tx.execute(
                Update.table(k).set(k.revokedAt.set(now(as: Date?.self))).where(k.id == id && k.revokedAt.isNull))
            guard changed == 1 else { throw TenantError.notFound("active API key \(id)") }
            try await tx.audit("api_key.revoked", target: id.uuidString.lowercased())
        }
    }

    /// What ``APIKey`` is read from: never the key's hash.
    static func columns(_ k: APIKeysTable) -> [any Selectable] { k.columns(excluding: k.orgID, k.keyHash) }
}


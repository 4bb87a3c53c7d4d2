import Foundation

/// A catalog item: public (`orgID` nil) or private to the active organization.
public struct CatalogItem: Codable, Sendable, Equatable {
    public let id: UUID
    public let orgID: UUID?
    public let kind: String
    public let slug: String
    public let name: String
    public let metadata: [String: String]
    public let createdAt: Date
    public let updatedAt: Date

    /// True for an item of the public catalog (encoded too, as `isPublic`).
    public var isPublic: Bool { orgID == nil }

    enum CodingKeys: String, CodingKey { case id, orgID, kind, slug, name, metadata, createdAt, updatedAt, isPublic }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(UUID.self, forKey: .id)
        orgID = try c.decodeIfPresent(UUID.self, forKey: .orgID)
        kind = try c.decode(String.self, forKey: .kind)
        slug = try c.decode(String.self, forKey: .slug)
        name = try c.decode(String.self, forKey: .name)
        metadata = try c.decode([String: String].self, forKey: .metadata)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        updatedAt = try c.decode(Date.self, forKey: .updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(orgID, forKey: .orgID)
        try c.encode(kind, forKey: .kind)
        try c.encode(slug, forKey: .slug)
        try c.encode(name, forKey: .name)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(isPublic, forKey: .isPublic)
    }
}

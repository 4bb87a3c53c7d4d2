import Foundation

/// A key just created, with the full secret: shown once, stored only as a SHA-256 hash.
public struct IssuedAPIKey: Codable, Sendable {
    public let key: APIKey
    public let secret: String
}

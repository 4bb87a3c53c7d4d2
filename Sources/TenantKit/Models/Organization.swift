import Foundation

/// An organization as its members see it.
public struct Organization: Codable, Sendable, Equatable {
    public let id: UUID
    public let name: String
    public let createdAt: Date
}

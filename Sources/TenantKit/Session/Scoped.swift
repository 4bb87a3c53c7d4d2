import Foundation

/// A result and the organization it belongs to. After an org switch, a read re-issued against the
/// new organization comes back with the new `orgID`, so a view can tell fresh results from stale ones.
public struct Scoped<Value: Sendable>: Sendable {
    public let orgID: UUID
    public let value: Value

    public init(orgID: UUID, value: Value) {
        self.orgID = orgID
        self.value = value
    }
}

extension Scoped: Equatable where Value: Equatable {}

extension Scoped: Codable where Value: Codable {}

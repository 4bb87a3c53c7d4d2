import Foundation

/// Which entries to list; every field narrows the list.
public struct AuditFilter: Sendable {
    public var actorUserID: UUID?
    public var actorAPIKeyID: UUID?
    public var action: String?
    public var from: Date?
    public var until: Date?

    public init(actorUserID: UUID? = nil, actorAPIKeyID: UUID? = nil, action: String? = nil, from: Date? = nil, until: Date? = nil) {
        self.actorUserID = actorUserID
        self.actorAPIKeyID = actorAPIKeyID
        self.action = action
        self.from = from
        self.until = until
    }
}

import TenantKitPostgres

/// A member's role: admins manage the organization, members work in it, viewers read.
public enum Role: String, Codable, Sendable, Comparable, CaseIterable, PostgresCodable {
    case viewer, member, admin

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    private var rank: Int { Role.allCases.firstIndex(of: self)! }
}

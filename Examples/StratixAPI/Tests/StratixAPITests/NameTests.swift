import Foundation
import TenantKit
import Testing

// An application's own models may take the short names TenantKit's models have: declarations of
// the application's module win over imported ones, and `TenantKit.` names TenantKit's (no type in
// TenantKit is called `TenantKit`, so the module name always qualifies). This file compiles only
// while that holds.
struct User { let handle: String }
struct Run { let label: String }
enum Role { case owner }

@Suite struct NameTests {
    @Test func applicationModelsMayShareTenantKitsShortNames() {
        let mine = User(handle: "ada"), run = Run(label: "nightly"), role = Role.owner
        let ours: [TenantKit.Role] = TenantKit.Role.allCases
        #expect(mine.handle == "ada" && run.label == "nightly" && role == .owner)
        #expect(ours.map(\.rawValue) == ["viewer", "member", "admin"])
        #expect(TenantKit.Run.Status.running.rawValue == "running")
        #expect(ObjectIdentifier(User.self) != ObjectIdentifier(TenantKit.User.self))
    }
}

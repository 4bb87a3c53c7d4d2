import Foundation
import TenantKitPostgres
import TenantKit
import Testing

@Suite struct OrganizationTests {
    @Test func creatorBecomesAdminWithAnAccountAndAnAuditEntry() async throws {
        try await withWorld { w in
            let (ada, session, acme) = try await w.founder("ada@acme.test", org: "Acme")
            #expect(await session.activeOrgID == acme)
            let members = try await session.read { try await $0.members.list() }
            #expect(members.orgID == acme)
            #expect(members.value.map(\.userID) == [ada.id])
            #expect(members.value.map(\.role) == [.admin])
            #expect(try await session.read { try await $0.credits.balance() }.value == 0)
            let audit = try await session.read { try await $0.audit.page().items }.value
            #expect(audit.map(\.action) == ["organization.created"])
            #expect(audit.first?.actorUserID == ada.id)
            #expect(try await session.read { try await $0.audit.verifyChain() }.value == .intact(entries: 1))
        }
    }

    @Test func renameAndSettingsAreAdminOnlyAndAudited() async throws {
        try await withWorld { w in
            let (_, session, acme) = try await w.founder("ada@acme.test", org: "Acme")
            try await session.write { try await $0.organization.rename(to: "Acme Labs") }
            struct Settings: Codable, Sendable, Equatable { var theme: String }
            try await session.write { try await $0.organization.updateSettings(Settings(theme: "dark")) }
            #expect(try await session.read { try await $0.organization.get() }.value.name == "Acme Labs")
            #expect(try await session.read { try await $0.organization.settings(as: Settings.self) }.value == Settings(theme: "dark"))
            let actions = try await session.read { try await $0.audit.page().items }.value.map(\.action)
            #expect(actions == ["organization.settings_changed", "organization.renamed", "organization.created"])

            let viewer = try await w.store.createUser(email: "vic@acme.test")
            let invite = try await session.write { try await $0.invitations.invite(email: viewer.email, role: .viewer) }.value
            _ = try await w.store.acceptInvitation(token: invite.token, userID: viewer.id)
            let viewerSession = try await w.store.session(for: viewer.id, activeOrgID: acme)
            let error = await tenantError { try await viewerSession.write { try await $0.organization.rename(to: "Mine") } }
            #expect(error == .forbidden(action: "renaming the organization", required: .admin))
            #expect(await tenantError { try await session.write { try await $0.organization.rename(to: "  ") } }
                == .invalidInput("an organization name must have 1 to 200 characters"))
        }
    }

    @Test func deletingRemovesAccessButKeepsHistory() async throws {
        try await withWorld { w in
            let (ada, session, acme) = try await w.founder("ada@acme.test", org: "Acme")
            let key = try await session.write { try await $0.apiKeys.create(name: "ci") }.value
            _ = try await session.write { try await $0.catalog.create(kind: "model", slug: "mine", name: "Mine") }
            let used = try await session.write { try await $0.catalog.create(kind: "model", slug: "used", name: "Used") }.value
            _ = try await w.asPlatform(session) { try await $0.credits.grant(5, reason: "budget", idempotencyKey: "g") }
            let run = try await session.write { try await $0.runs.start(itemID: used.id, cost: 1, idempotencyKey: "r") }.value
            try await session.write { try await $0.organization.delete() }
            #expect(try await w.store.organizations(of: ada.id).isEmpty)
            #expect(try await w.count("memberships", org: acme) == 0)
            // The item a run used stays, with the run; the unused one is gone.
            #expect(try await w.admin.fetchAll("SELECT slug FROM catalog_items WHERE org_id = \(acme)", as: String.self) == ["used"])
            #expect(try await w.count("runs", org: acme) == 1)
            #expect(try await w.admin.fetchOne("SELECT catalog_item_id FROM runs WHERE id = \(run.id)", as: UUID.self) == used.id)
            #expect(await tenantError { try await w.store.session(apiKey: key.secret) } == .invalidAPIKey)
            // History stays: the audit log is append-only, and records the deletion last.
            let last = try await w.admin.fetchOne(
                "SELECT action FROM audit_log WHERE org_id = \(acme) ORDER BY seq DESC LIMIT 1", as: String.self)
            #expect(last == "organization.deleted")
            #expect(try await session.read { try await $0.members.list() }.value.isEmpty)
            #expect(await tenantError { try await session.write { try await $0.catalog.create(kind: "model", slug: "again", name: "Again") } }
                == .notAMember(orgID: acme))
        }
    }
}

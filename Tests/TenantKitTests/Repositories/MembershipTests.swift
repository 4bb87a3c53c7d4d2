import Foundation
import TenantKitPostgres
import TenantKit
import Testing

@Suite struct MembershipTests {
    @Test func invitationsJoinWithTheirRoleOnce() async throws {
        try await withWorld { w in
            let (_, admin, acme) = try await w.founder("ada@acme.test", org: "Acme")
            let bob = try await w.store.createUser(email: "Bob@Example.test")
            let issued = try await admin.write { try await $0.invitations.invite(email: "bob@EXAMPLE.test", role: .member) }.value
            #expect(issued.invitation.email == "bob@example.test")
            #expect(try await w.admin.fetchOne("SELECT count(*) FROM invitations WHERE token_hash = sha256(convert_to(\(issued.token), 'UTF8'))", as: Int.self) == 1)
            #expect(try await w.admin.fetchOne("SELECT count(*) FROM invitations WHERE token_hash = convert_to(\(issued.token), 'UTF8')", as: Int.self) == 0)
            #expect(try await admin.read { try await $0.invitations.pending() }.value.map(\.id) == [issued.invitation.id])

            let joined = try await w.store.acceptInvitation(token: issued.token, userID: bob.id)
            #expect(joined.orgID == acme && joined.role == .member)
            #expect(await tenantError { try await w.store.acceptInvitation(token: issued.token, userID: bob.id) }
                == .invitationRejected(.alreadyUsed))
            #expect(try await admin.read { try await $0.invitations.pending() }.value.isEmpty)
            let joinedEntry = try await admin.read { try await $0.audit.page(AuditFilter(action: "member.joined")).items }.value
            #expect(joinedEntry.map(\.actorUserID) == [bob.id])
            #expect(joinedEntry.first?.details == ["via": "invitation", "role": "member"])
        }
    }

    @Test func invitationsRejectOtherEmailsExpiredRevokedAndUnknownTokens() async throws {
        try await withWorld { w in
            let (_, admin, _) = try await w.founder("ada@acme.test", org: "Acme")
            let eve = try await w.store.createUser(email: "eve@evil.test")
            let forBob = try await admin.write { try await $0.invitations.invite(email: "bob@example.test", role: .member) }.value
            #expect(await tenantError { try await w.store.acceptInvitation(token: forBob.token, userID: eve.id) }
                == .invitationRejected(.wrongEmail))
            #expect(await tenantError { try await w.store.acceptInvitation(token: forBob.token + "x", userID: eve.id) }
                == .invitationRejected(.unknownToken))

            let forEve = try await admin.write { try await $0.invitations.invite(email: eve.email, role: .viewer) }.value
            try await w.admin.execute("UPDATE invitations SET created_at = now() - interval '8 days', expires_at = now() - interval '1 day' WHERE id = \(forEve.invitation.id)")
            #expect(await tenantError { try await w.store.acceptInvitation(token: forEve.token, userID: eve.id) }
                == .invitationRejected(.expired))

            let revoked = try await admin.write { try await $0.invitations.invite(email: eve.email, role: .viewer) }.value
            try await admin.write { try await $0.invitations.revoke(revoked.invitation.id) }
            #expect(await tenantError { try await w.store.acceptInvitation(token: revoked.token, userID: eve.id) }
                == .invitationRejected(.alreadyUsed))
            #expect(try await w.store.organizations(of: eve.id).isEmpty)
            #expect(await tenantError { try await admin.write { try await $0.invitations.invite(email: "not an email", role: .member) } }
                == .invalidInput("\"not an email\" is not an email address"))
        }
    }

    @Test func rolesDecideWhoMayDoWhat() async throws {
        try await withWorld { w in
            let (_, admin, acme) = try await w.founder("ada@acme.test", org: "Acme")
            let viewer = try await w.store.createUser(email: "vic@acme.test")
            let member = try await w.store.createUser(email: "mo@acme.test")
            for (user, role) in [(viewer, Role.viewer), (member, .member)] {
                let invite = try await admin.write { try await $0.invitations.invite(email: user.email, role: role) }.value
                _ = try await w.store.acceptInvitation(token: invite.token, userID: user.id)
            }
            let v = try await w.store.session(for: viewer.id, activeOrgID: acme)
            let m = try await w.store.session(for: member.id, activeOrgID: acme)
            #expect(try await v.read { try await $0.catalog.page() }.value.items.isEmpty)
            #expect(await tenantError { try await v.write { try await $0.catalog.create(kind: "model", slug: "x", name: "X") } }
                == .forbidden(action: "adding catalog items", required: .member))
            _ = try await m.write { try await $0.catalog.create(kind: "model", slug: "x", name: "X") }
            #expect(await tenantError { try await m.write { try await $0.invitations.invite(email: "z@acme.test", role: .admin) } }
                == .forbidden(action: "inviting people", required: .admin))
            #expect(await tenantError { try await m.write { try await $0.apiKeys.create(name: "k") } }
                == .forbidden(action: "creating API keys", required: .admin))
            #expect(await tenantError { try await m.write { try await $0.members.changeRole(of: member.id, to: .admin) } }
                == .forbidden(action: "changing roles", required: .admin))
            try await admin.write { try await $0.members.changeRole(of: viewer.id, to: .member) }
            _ = try await v.write { try await $0.catalog.create(kind: "model", slug: "y", name: "Y") }
            try await admin.write { try await $0.members.remove(member.id) }
            #expect(await tenantError { try await m.read { try await $0.members.myRole() } } == .notAMember(orgID: acme))
            let roles = try await admin.read { try await $0.members.list() }.value.map(\.role)
            #expect(roles == [.admin, .member])  // ada@, vic@ by email
        }
    }

    @Test func theLastAdminCannotLeaveBeDemotedOrRemoved() async throws {
        try await withWorld { w in
            let (ada, admin, acme) = try await w.founder("ada@acme.test", org: "Acme")
            #expect(await tenantError { try await admin.write { try await $0.members.leave() } } == .lastAdmin)
            #expect(await tenantError { try await admin.write { try await $0.members.changeRole(of: ada.id, to: .member) } } == .lastAdmin)
            #expect(await tenantError { try await admin.write { try await $0.members.remove(ada.id) } } == .lastAdmin)

            let bea = try await w.store.createUser(email: "bea@acme.test")
            let invite = try await admin.write { try await $0.invitations.invite(email: bea.email, role: .admin) }.value
            _ = try await w.store.acceptInvitation(token: invite.token, userID: bea.id)
            let other = try await w.store.session(for: bea.id, activeOrgID: acme)
            // Two admins demoting each other at once: exactly one succeeds.
            let first = Task { try await admin.write { try await $0.members.changeRole(of: bea.id, to: .member) } }
            let second = Task { try await other.write { try await $0.members.changeRole(of: ada.id, to: .member) } }
            let outcomes = [await succeeded { _ = try await first.value }, await succeeded { _ = try await second.value }]
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await w.admin.fetchOne("SELECT count(*) FROM memberships WHERE org_id = \(acme) AND role = 'admin'", as: Int.self) == 1)
        }
    }

    @Test func emailDomainAutoJoin() async throws {
        try await withWorld { w in
            let (_, admin, acme) = try await w.founder("ada@acme.test", org: "Acme")
            try await admin.write { try await $0.domains.register("Acme.test", defaultRole: .viewer) }
            #expect(await tenantError { try await admin.write { try await $0.domains.setAutoJoin("acme.test", enabled: true, defaultRole: .viewer) } }
                == .invalidInput("domain acme.test must be verified before auto-join is enabled"))
            try await admin.write { org in
                try await org.domains.markVerified("acme.test", challenge: try await org.domains.challenge(for: "acme.test"))
            }
            try await admin.write { try await $0.domains.setAutoJoin("acme.test", enabled: true, defaultRole: .viewer) }

            let unverified = try await w.store.createUser(email: "new@acme.test", emailVerified: false)
            #expect(try await w.store.signIn(userID: unverified.id).isEmpty)
            try await w.store.markEmailVerified(unverified.id)
            #expect(try await w.store.signIn(userID: unverified.id) == [acme])
            #expect(try await w.store.signIn(userID: unverified.id).isEmpty)  // already in
            #expect(try await w.store.organizations(of: unverified.id).map(\.role) == [.viewer])
            let joinedEntry = try await admin.read { try await $0.audit.page(AuditFilter(action: "member.joined")).items }.value
            #expect(joinedEntry.first?.details == ["via": "email domain", "role": "viewer"])

            let outsider = try await w.store.createUser(email: "x@other.test", emailVerified: true)
            #expect(try await w.store.signIn(userID: outsider.id).isEmpty)
            // Another organization cannot claim a domain already verified here.
            let (_, rival, _) = try await w.founder("r@rival.test", org: "Rival")
            try await rival.write { try await $0.domains.register("acme.test") }
            #expect(await tenantError { try await rival.write { org in
                try await org.domains.markVerified("acme.test", challenge: try await org.domains.challenge(for: "acme.test"))
            } }
                == .alreadyExists("a verified claim on acme.test (held by another organization)"))
            #expect(await tenantError { try await admin.write { try await $0.domains.register("not a domain") } }
                == .invalidInput("\"not a domain\" is not a domain name"))
        }
    }
}

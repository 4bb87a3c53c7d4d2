import Foundation
import Hummingbird
import HummingbirdTesting
import StratixAPI
import TenantKit
import TenantKitTesting
import Testing

/// SEED-organizations.md over HTTP, as a client of the API sees it.
@Suite struct StoryTests {
    @Test func theOrganizationsStoryEndToEnd() async throws {
        try await withStratixWorld { world in
            let app = Application(router: StratixService.router(store: world.store, configuration: world.configuration(credits: 10)))
            try await app.test(.router) { client in
                // Signing in opens a persistent session; nobody has an organization yet.
                let (ada, signedIn) = try await client.signIn("ada@acme.test")
                #expect(signedIn.activeOrgID == nil && signedIn.email == "ada@acme.test")
                #expect(try await client.send(.get, "/catalog", .cookie(ada)).errorCode == "no_active_organization")
                #expect(try await client.send(.get, "/catalog").status == .unauthorized)
                #expect(try await client.send(.get, "/catalog", .cookie("tks_forged")).status == .unauthorized)

                // Creating an organization makes Ada its admin and makes it active.
                let created = try await client.send(.post, "/orgs", .cookie(ada), json: StratixNewOrganization(name: "Acme"))
                #expect(created.status == .created)
                let acme = try created.decoded(StratixOrganizationEntry.self)
                #expect(acme.role == .admin && acme.name == "Acme")
                let item = try await client.send(.post, "/catalog", .cookie(ada), json: StratixNewCatalogItem(slug: "acme-secret", name: "Acme secret"))
                #expect(item.status == .created)
                let secret = try item.decoded(StratixCatalogItemCreated.self).item
                #expect(!secret.isPublic && secret.orgID == acme.orgID)

                // The catalog: the public catalog plus the active organization's private items.
                let acmeCatalog = try await client.send(.get, "/catalog", .cookie(ada)).decoded(StratixPage<CatalogItem>.self)
                #expect(acmeCatalog.orgID == acme.orgID)
                #expect(Set(acmeCatalog.items.map(\.name)) == Set(publicItemNames + ["Acme secret"]))

                // A second organization: the switcher lists both; switching changes what the catalog shows.
                let globex = try await client.send(.post, "/orgs", .cookie(ada), json: StratixNewOrganization(name: "Globex"))
                    .decoded(StratixOrganizationEntry.self)
                let switcher = try await client.send(.get, "/orgs", .cookie(ada)).decoded(StratixSwitcher.self)
                #expect(switcher.activeOrgID == globex.orgID)
                #expect(Set(switcher.organizations.map(\.name)) == ["Acme", "Globex"])
                let globexCatalog = try await client.send(.get, "/catalog", .cookie(ada)).decoded(StratixPage<CatalogItem>.self)
                #expect(globexCatalog.orgID == globex.orgID && Set(globexCatalog.items.map(\.name)) == Set(publicItemNames))
                let switched = try await client.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: acme.orgID))
                #expect(try switched.decoded(StratixSwitcher.self).activeOrgID == acme.orgID)
                #expect(try await client.send(.get, "/catalog", .cookie(ada)).decoded(StratixPage<CatalogItem>.self).items.contains { $0.name == "Acme secret" })
                #expect(try await client.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: UUID())).errorCode == "not_a_member")

                // Paging: a cursor from one page reads the next; another listing's cursor is refused.
                let first = try await client.send(.get, "/catalog?limit=2", .cookie(ada)).decoded(StratixPage<CatalogItem>.self)
                let cursor = try #require(first.next)
                let second = try await client.send(.get, "/catalog?limit=2&cursor=\(cursor.text)", .cookie(ada)).decoded(StratixPage<CatalogItem>.self)
                #expect(Set((first.items + second.items).map(\.name)) == Set(publicItemNames + ["Acme secret"]) && second.next == nil)
                #expect(try await client.send(.get, "/audit?cursor=\(cursor.text)", .cookie(ada)).errorCode == "invalid_input")

                // A run debits the active organization's ECU, once per idempotency key; too little is a 402.
                let run = StratixStartRun(itemID: secret.id, cost: 4, idempotencyKey: "run-1")
                let started = try await client.send(.post, "/runs", .cookie(ada), json: run)
                #expect(started.status == .created)
                let firstRun = try started.decoded(StratixRunStarted.self)
                #expect(firstRun.balance == 6 && firstRun.orgID == acme.orgID)
                let retried = try await client.send(.post, "/runs", .cookie(ada), json: run).decoded(StratixRunStarted.self)
                #expect(retried.run.id == firstRun.run.id && retried.balance == 6)
                let refused = try await client.send(.post, "/runs", .cookie(ada), json: StratixStartRun(itemID: secret.id, cost: 7, idempotencyKey: "run-2"))
                #expect(refused.status.code == 402 && refused.errorCode == "insufficient_credits")
                #expect(!refused.text.contains("6"), "the body names no balance")
                let credits = try await client.send(.get, "/credits", .cookie(ada)).decoded(StratixCredits.self)
                #expect(credits.balance == 6 && credits.history.map(\.amount) == [-4, 10])
                // Globex has its own balance: Acme's run did not touch it.
                try await client.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: globex.orgID))
                #expect(try await client.send(.get, "/credits", .cookie(ada)).decoded(StratixCredits.self).balance == 10)
                try await client.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: acme.orgID))

                // An invitation by email; Bob, in no organization yet, lands in Acme when he accepts.
                let invited = try await client.send(.post, "/invitations", .cookie(ada), json: StratixInvite(email: "Bob@Globex.test", role: .member))
                #expect(invited.status == .created)
                let invitation = try invited.decoded(StratixInvitationIssued.self)
                let (bob, _) = try await client.signIn("bob@globex.test")
                let wrongPerson = try await client.signIn("eve@evil.test").token
                #expect(try await client.send(.post, "/invitations/accept", .cookie(wrongPerson), json: StratixAcceptInvitation(token: invitation.token))
                    .errorCode == "invitation_wrong_email")
                let accepted = try await client.send(.post, "/invitations/accept", .cookie(bob), json: StratixAcceptInvitation(token: invitation.token))
                let joined = try accepted.decoded(StratixJoined.self)
                #expect(joined.joined.map(\.orgID) == [acme.orgID] && joined.joined.first?.role == .member && joined.activeOrgID == acme.orgID)
                #expect(try await client.send(.get, "/catalog", .cookie(bob)).decoded(StratixPage<CatalogItem>.self).items.contains { $0.name == "Acme secret" })
                #expect(try await client.send(.post, "/invitations/accept", .cookie(bob), json: StratixAcceptInvitation(token: invitation.token))
                    .errorCode == "invitation_used")
                let bobsRun = try await client.send(.post, "/runs", .cookie(bob), json: StratixStartRun(itemID: secret.id, cost: 1, idempotencyKey: "bob-1"))
                #expect(try bobsRun.decoded(StratixRunStarted.self).balance == 5)

                // API keys: admins only, shown once, pinned to the organization they were issued in.
                #expect(try await client.send(.post, "/api-keys", .cookie(bob), json: StratixNewAPIKey(name: "bob's")).errorCode == "forbidden")
                let issued = try await client.send(.post, "/api-keys", .cookie(ada), json: StratixNewAPIKey(name: "sdk terminal"))
                #expect(issued.status == .created)
                let key = try issued.decoded(StratixAPIKeyIssued.self)
                #expect(key.orgID == acme.orgID && key.secret.hasPrefix(key.key.prefix))
                // Ada's dashboard moves to Globex; the terminal's key still works in Acme.
                try await client.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: globex.orgID))
                let viaKey = try await client.send(.get, "/catalog", .bearer(key.secret)).decoded(StratixPage<CatalogItem>.self)
                #expect(viaKey.orgID == acme.orgID && viaKey.items.contains { $0.name == "Acme secret" })
                #expect(try await client.send(.get, "/catalog", .cookie(ada)).decoded(StratixPage<CatalogItem>.self).orgID == globex.orgID)
                #expect(try await client.send(.post, "/session/switch", .bearer(key.secret), json: StratixSwitchRequest(orgID: globex.orgID))
                    .errorCode == "pinned_to_api_key_organization")
                #expect(try await client.send(.get, "/orgs", .bearer(key.secret)).decoded(StratixSwitcher.self).organizations.map(\.orgID) == [acme.orgID])
                let keyRun = try await client.send(.post, "/runs", .bearer(key.secret), json: StratixStartRun(itemID: secret.id, cost: 1, idempotencyKey: "sdk-1"))
                #expect(try keyRun.decoded(StratixRunStarted.self).balance == 4)
                #expect(try await client.send(.get, "/catalog", .bearer(key.secret + "x")).errorCode == "invalid_api_key")

                // The audit log names who acted: Ada, Bob, and the key.
                try await client.send(.post, "/session/switch", .cookie(ada), json: StratixSwitchRequest(orgID: acme.orgID))
                let audit = try await client.send(.get, "/audit", .cookie(ada)).decoded(StratixPage<AuditEntry>.self)
                #expect(audit.orgID == acme.orgID)
                let runs = audit.items.filter { $0.action == "run.started" }
                #expect(runs.count == 3)
                #expect(runs.contains { $0.actorAPIKeyID == key.key.id && $0.actorUserID == nil })
                #expect(runs.contains { $0.actorUserID == signedIn.userID })
                let bobID = try await world.store.user(email: "bob@globex.test")?.id
                #expect(runs.contains { $0.actorUserID == bobID })
                #expect(audit.items.contains { $0.action == "organization.created" && $0.actorUserID == signedIn.userID })
                #expect(audit.items.contains { $0.action == "member.joined" && $0.actorUserID == bobID })
                let keyEntries = try await client.send(.get, "/audit?action=api_key.created", .cookie(ada)).decoded(StratixPage<AuditEntry>.self)
                #expect(keyEntries.items.count == 1 && !keyEntries.text(contains: key.secret))

                // Signing out ends the session everywhere.
                #expect(try await client.send(.post, "/sign-out", .cookie(bob)).status == .noContent)
                #expect(try await client.send(.get, "/catalog", .cookie(bob)).status == .unauthorized)
            }
        }
    }

    @Test func emailDomainAutoJoin() async throws {
        try await withStratixWorld { world in
            // Stands in for DNS: what each domain publishes as TXT records.
            let published = Shared<[String: [String]]>([:])
            var configuration = world.configuration()
            configuration.txtRecords = { domain in published.get()[domain] ?? [] }
            let app = Application(router: StratixService.router(store: world.store, configuration: configuration))
            try await app.test(.router) { client in
                let (ada, _) = try await client.signIn("ada@acme.test")
                let acme = try await client.send(.post, "/orgs", .cookie(ada), json: StratixNewOrganization(name: "Acme")).decoded(StratixOrganizationEntry.self)
                let (dave, early) = try await client.signIn("dave@acme.test")  // before Acme claimed its domain
                #expect(early.autoJoinedOrgIDs.isEmpty)

                let registered = try await client.send(.post, "/domains", .cookie(ada), json: StratixDomainRequest(domain: "acme.test"))
                #expect(registered.status == .created)
                let challenge = try registered.decoded(StratixDomainChallenge.self).challenge
                #expect(try await client.send(.post, "/domains/verify", .cookie(ada), json: StratixDomainRequest(domain: "acme.test")).status == .notFound)
                published.update { $0["acme.test"] = ["v=spf1 -all", challenge] }
                let verified = try await client.send(.post, "/domains/verify", .cookie(ada), json: StratixDomainRequest(domain: "acme.test"))
                #expect(verified.status == .ok)
                let domain = try verified.decoded(StratixDomainVerified.self).domain
                #expect(domain.enabled && domain.defaultRole == .member && domain.verifiedAt != nil)

                // A new user of the domain joins at sign-in; one already signed in joins on asking.
                let (_, carol) = try await client.signIn("carol@acme.test")
                #expect(carol.autoJoinedOrgIDs == [acme.orgID] && carol.activeOrgID == acme.orgID)
                let joined = try await client.send(.post, "/domains/join", .cookie(dave)).decoded(StratixJoined.self)
                #expect(joined.joined.map(\.orgID) == [acme.orgID] && joined.activeOrgID == acme.orgID)
                #expect(try await client.send(.post, "/domains/join", .cookie(dave)).decoded(StratixJoined.self).joined.isEmpty)
                let (eve, _) = try await client.signIn("eve@evil.test")
                #expect(try await client.send(.post, "/domains/join", .cookie(eve)).decoded(StratixJoined.self).joined.isEmpty)
            }
        }
    }
}

extension StratixPage {
    /// Whether the page's JSON contains `text` anywhere.
    func text(contains text: String) -> Bool {
        String(decoding: (try? StratixJSON.encoder().encode(self)) ?? Data(), as: UTF8.self).contains(text)
    }
}

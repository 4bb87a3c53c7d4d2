import Foundation
import Hummingbird
import Logging
import TenantKitPostgres
import HummingbirdTesting
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

@Suite struct RequestTests {
    @Test func aUserSessionReachesItsOrganizationsCatalog() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let bob = try await w.founder("bob@globex.test", org: "Globex")
            _ = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }
            _ = try await bob.session.write { try await $0.catalog.create(kind: "model", slug: "globex-m", name: "Globex model") }

            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == #"{"items":["Acme model"]}"#)
                }
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(bob.cookie)) { response in
                    #expect(response.text == #"{"items":["Globex model"]}"#)
                }
                try await client.execute(uri: "/whoami", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.text == "user")
                }
                // A member writes through the same context.
                try await client.execute(uri: "/catalog", method: .post, headers: cookie(ada.cookie),
                                         body: json(#"{"slug":"acme-2","name":"Second"}"#)) { response in
                    #expect(response.status == .created)
                    #expect(response.text == #"{"name":"Second"}"#)
                }
            }
        }
    }

    @Test func persistentSessionsPlugIn() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            _ = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }
            let user = try #require(try await w.store.user(email: "ada@acme.test"))
            let opened = try await w.store.openSession(for: user.id, activeOrgID: ada.orgID)
            let router = Router(context: TenantRequestContext.self)
            router.add(middleware: TenantErrorMiddleware())
            router.add(middleware: TenantAuthMiddleware(store: w.store, sessions: TenantStoreSessions(store: w.store)))
            router.get("/catalog") { _, context -> ItemNames in
                ItemNames(items: try await context.requireActiveOrg().catalog.page().items.map(\.name))
            }
            try await Application(router: router).test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(opened.token)) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == #"{"items":["Acme model"]}"#)
                }
                try await w.store.closeSession(opened.session)
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(opened.token)) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.text == errorBody("unauthenticated", "Authentication is required."))
                }
            }
        }
    }

    @Test(arguments: [TenantAuthMiddleware<TenantRequestContext>.APIKeyCheck.beforeHandler, .withFirstStatement])
    func anAPIKeyIsPinnedToItsOrganization(check: TenantAuthMiddleware<TenantRequestContext>.APIKeyCheck) async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let bob = try await w.founder("bob@globex.test", org: "Globex")
            _ = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }
            let globexItem = try await bob.session.write { try await $0.catalog.create(kind: "model", slug: "globex-m", name: "Globex model") }.value
            let key = try await ada.session.write { try await $0.apiKeys.create(name: "sdk terminal") }.value

            try await Application(router: makeRouter(store: w.store, sessions: w.sessions, apiKeyCheck: check)).test(.router) { client in
                // The key works in Acme even though Ada's session is in Globex meanwhile.
                w.sessions.switchOrganization(ofSession: ada.cookie, to: bob.orgID)
                try await client.execute(uri: "/catalog", method: .get, headers: bearer(key.secret)) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == #"{"items":["Acme model"]}"#)
                }
                // Another org's item by id: not found, as if it did not exist.
                try await client.execute(uri: "/catalog/\(globexItem.id)", method: .get, headers: bearer(key.secret)) { response in
                    #expect(response.status == .notFound)
                    #expect(response.text == errorBody("not_found", "Not found."))
                }
                // The bearer key wins over a cookie on the same request.
                var both = bearer(key.secret)
                both[.cookie] = "tenantkit_session=\(bob.cookie)"
                try await client.execute(uri: "/catalog", method: .get, headers: both) { response in
                    #expect(response.text == #"{"items":["Acme model"]}"#)
                }
                try await client.execute(uri: "/catalog", method: .post, headers: bearer(key.secret),
                                         body: json(#"{"slug":"from-sdk","name":"From the SDK"}"#)) { response in
                    #expect(response.status == .created)
                }
            }
            // Written into the key's organization, not the one the user's session is in.
            let names = try await ada.session.read { try await $0.catalog.page().items.map(\.name) }.value
            #expect(names == ["Acme model", "From the SDK"])
        }
    }

    @Test func aViewerIsRefusedAWrite() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let invitation = try await ada.session.write { try await $0.invitations.invite(email: "vic@acme.test", role: .viewer) }.value
            let vic = try await w.store.createUser(email: "vic@acme.test", emailVerified: true)
            _ = try await w.store.acceptInvitation(token: invitation.token, userID: vic.id)
            let vicCookie = w.sessions.create(userID: vic.id, activeOrgID: ada.orgID)

            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(vicCookie)) { response in
                    #expect(response.status == .ok)  // viewers read
                }
                try await client.execute(uri: "/catalog", method: .post, headers: cookie(vicCookie),
                                         body: json(#"{"slug":"nope","name":"Nope"}"#)) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.text == errorBody("forbidden", "Your role does not allow this."))
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                }
            }
            #expect(try await ada.session.read { try await $0.catalog.page().items }.value.isEmpty)
        }
    }

    @Test(arguments: [TenantAuthMiddleware<TenantRequestContext>.APIKeyCheck.beforeHandler, .withFirstStatement])
    func aMissingOrInvalidCredentialIs401(check: TenantAuthMiddleware<TenantRequestContext>.APIKeyCheck) async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let key = try await ada.session.write { try await $0.apiKeys.create(name: "sdk") }.value
            let revoked = try await ada.session.write { try await $0.apiKeys.create(name: "old") }.value
            try await ada.session.write { try await $0.apiKeys.revoke(revoked.key.id) }
            // The real key's organization and id with another secret: only the database can tell.
            let forged = String(key.secret.dropLast(4)) + (key.secret.hasSuffix("AAAA") ? "BBBB" : "AAAA")

            let unauthenticated = errorBody("unauthenticated", "Authentication is required.")
            let invalidKey = errorBody("invalid_api_key", "The API key is not valid.")
            let cases: [(HTTPFields, String)] = [
                ([:], unauthenticated),
                ([.authorization: "Basic YWRhOnB3"], unauthenticated),
                ([.authorization: "Bearer"], unauthenticated),
                (cookie("no-such-session"), unauthenticated),
                (bearer("tk_nope"), invalidKey),
                (bearer("not-a-key"), invalidKey),
                (bearer(forged), invalidKey),
                (bearer(revoked.secret), invalidKey),
            ]
            try await Application(router: makeRouter(store: w.store, sessions: w.sessions, apiKeyCheck: check)).test(.router) { client in
                for (headers, expected) in cases {
                    try await client.execute(uri: "/catalog", method: .get, headers: headers) { response in
                        #expect(response.status == .unauthorized, "\(headers)")
                        #expect(response.text == expected, "\(headers)")
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    }
                }
                try await client.execute(uri: "/catalog", method: .get, headers: bearer(key.secret)) { response in
                    #expect(response.status == .ok)
                }
                // A route that sends no statement: only the check before the handler catches a forged key.
                try await client.execute(uri: "/whoami", method: .get, headers: bearer(forged)) { response in
                    #expect(response.status == (check == .beforeHandler ? .unauthorized : .ok))
                }
            }
        }
    }

    /// A resolver naming an organization the user is not in gets nothing of it: the database
    /// checks membership with every statement.
    @Test func aSessionInAnotherOrganizationSeesNothingOfIt() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let bob = try await w.founder("bob@globex.test", org: "Globex")
            _ = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "acme-m", name: "Acme model") }
            w.sessions.switchOrganization(ofSession: bob.cookie, to: ada.orgID)
            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(bob.cookie)) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == #"{"items":[]}"#)
                }
                try await client.execute(uri: "/catalog", method: .post, headers: cookie(bob.cookie),
                                         body: json(#"{"slug":"intruder","name":"Intruder"}"#)) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.text == errorBody("not_a_member", "You are not a member of this organization."))
                }
            }
        }
    }

    @Test func anUnknownItemIs404WithoutTenantData() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let unknown = UUID()
            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                try await client.execute(uri: "/catalog/\(unknown)", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .notFound)
                    #expect(response.text == errorBody("not_found", "Not found."))
                    for secret in [unknown.uuidString, unknown.uuidString.lowercased(), ada.orgID.uuidString, ada.orgID.uuidString.lowercased(), "Acme", "ada@"] {
                        #expect(!response.text.contains(secret))
                    }
                }
            }
        }
    }

    @Test func startingARunWithoutCreditsIs402() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let item = try await ada.session.write { try await $0.catalog.create(kind: "model", slug: "m", name: "M") }.value
            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                let run = #"{"itemID":"\#(item.id)","cost":5,"idempotencyKey":"req-1"}"#
                try await client.execute(uri: "/runs", method: .post, headers: cookie(ada.cookie), body: json(run)) { response in
                    #expect(response.status.code == 402)
                    #expect(response.text == errorBody("insufficient_credits", "The ECU balance is too low for this."))
                }
                // An invalid value is a 422 whose body does not echo it.
                let free = #"{"itemID":"\#(item.id)","cost":0,"idempotencyKey":"req-2"}"#
                try await client.execute(uri: "/runs", method: .post, headers: cookie(ada.cookie), body: json(free)) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.text == errorBody("invalid_input", "The request is not valid."))
                }
            }
            #expect(try await ada.session.read { try await $0.runs.page().items }.value.isEmpty)
        }
    }

    @Test func noActiveOrganizationAndDatabaseErrors() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let newcomer = try await w.store.createUser(email: "new@example.test", emailVerified: true)
            let newcomerCookie = w.sessions.create(userID: newcomer.id, activeOrgID: nil)
            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(newcomerCookie)) { response in
                    #expect(response.status == .conflict)
                    #expect(response.text == errorBody("no_active_organization", "No organization is active."))
                }
                // A PostgresError is a 500 that says nothing of it.
                try await client.execute(uri: "/boom", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .internalServerError)
                    #expect(response.text == errorBody("internal_error", "Internal server error."))
                }
                // Routing errors stay Hummingbird's.
                try await client.execute(uri: "/nowhere", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .notFound)
                }
                // A signed-out session is a 401.
                w.sessions.remove(ada.cookie)
                try await client.execute(uri: "/catalog", method: .get, headers: cookie(ada.cookie)) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }

    /// The pool knows nothing of requests; its log lines carry the id through the metadata provider.
    @Test func databaseLogLinesCarryTheRequestID() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            let records = LogRecords()
            var logger = Logger(label: "tenantkit.pool") { _ in RecordingLogHandler(records: records, metadataProvider: TenantRequestID.metadataProvider) }
            logger.logLevel = .debug  // the driver logs each statement at debug
            let pool = PostgresPool(configuration: w.db.configuration.with(user: "tenantkit_app"), maxConnections: 1, logger: logger)
            let store = TenantStore(pool: pool, key: .forTesting)
            try await Application(router: makeRouter(store: store, sessions: w.sessions)).test(.router) { client in
                var headers = cookie(ada.cookie)
                headers[TenantRequestID.headerName] = "trace-me-1"
                try await client.execute(uri: "/catalog", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                }
            }
            await pool.close()
            let queries = records.lines.filter { $0.hasPrefix("query ") }
            #expect(!queries.isEmpty)
            #expect(queries.allSatisfy { $0.contains("request_id=trace-me-1") })
        }
    }

    @Test func requestIDsAreForwardedOrAssigned() async throws {
        try await withWorld { w in
            let ada = try await w.founder("ada@acme.test", org: "Acme")
            try await Application(router: makeRouter(store: w.store, sessions: w.sessions)).test(.router) { client in
                var headers = cookie(ada.cookie)
                headers[TenantRequestID.headerName] = "edge-42:abc"
                try await client.execute(uri: "/catalog", method: .get, headers: headers) { response in
                    #expect(response.headers[TenantRequestID.headerName] == "edge-42:abc")
                }
                // An id that could forge a log line is replaced, also on an error response.
                headers[TenantRequestID.headerName] = "x\n level=error forged"
                try await client.execute(uri: "/catalog/\(UUID())", method: .get, headers: headers) { response in
                    #expect(response.status == .notFound)
                    let id = try #require(response.headers[TenantRequestID.headerName])
                    #expect(!id.isEmpty && id.count <= 32 && id.allSatisfy(\.isHexDigit))  // Hummingbird's own id
                }
            }
        }
    }
}

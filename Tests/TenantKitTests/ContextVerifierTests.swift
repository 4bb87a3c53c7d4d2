import Foundation
import TenantKitPostgres
@testable import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The native verifier (Extensions/tenantkit_context) and the portable one (Schema/0012) make
/// the same decision on every claim, and the native one's caches never outlive a write.
@Suite struct ContextVerifierTests {
    typealias Verifier = TestDatabaseTemplate.ContextVerifier

    @Test(arguments: [Verifier.native, .portable])
    func bothVerifiersDecideEveryClaimAlike(_ verifier: Verifier) async throws {
        try await Self.withDatabase(verifier) { db, world in
            let app = try await db.connect(user: "tenantkit_app")
            let pid = app.backendPID
            let context = TestDatabase.context
            let valid = context.claim(orgID: world.acme, actor: .user(world.ada), backendPID: pid)
            func flipped(_ claim: String, at offset: Int) -> String {
                var digits = Array(claim)
                digits[offset] = digits[offset] == "0" ? "1" : "0"
                return String(digits)
            }
            func signed(_ payload: String) -> String { payload + TenantContextKey.forTesting.mac(Array(payload.utf8)) }
            let acme = world.acme.uuidString.lowercased(), ada = world.ada.uuidString.lowercased()
            let key = world.key.uuidString.lowercased(), bob = world.bob.uuidString.lowercased()

            let cases: [(String, String?, String?)] = [
                ("a member in its org", valid, "(\(acme),\(ada),,admin)"),
                ("a user before choosing an org", context.claim(orgID: nil, actor: .user(world.ada), backendPID: pid), "(,\(ada),,)"),
                ("a user in an org it is not a member of", context.claim(orgID: world.acme, actor: .user(world.bob), backendPID: pid), "(,\(bob),,)"),
                ("a changed MAC digit", flipped(valid, at: 219), nil),
                ("a changed org digit", flipped(valid, at: 60), nil),
                ("another backend's claim", context.claim(orgID: world.acme, actor: .user(world.ada), backendPID: pid &+ 1), nil),
                ("an expired claim", context.claim(orgID: world.acme, actor: .user(world.ada), backendPID: pid, now: Date() - 3_600), nil),
                ("a claim signed with a key the database does not have",
                 SignedTenantContext(key: .generate()).claim(orgID: world.acme, actor: .user(world.ada), backendPID: pid), nil),
                ("upper-case digits", valid.uppercased(), nil),
                ("a truncated claim", String(valid.dropLast()), nil),
                ("a longer claim", valid + "0", nil),
                ("an unknown kind, signed", signed("14" + valid.dropFirst(2).prefix(154)), nil),
                ("an API key with its hash", context.claim(orgID: world.acme, actor: .apiKey(world.key, presentedHash: world.keyHash), backendPID: pid),
                 "(\(acme),,\(key),member)"),
                ("an API key with another hash",
                 context.claim(orgID: world.acme, actor: .apiKey(world.key, presentedHash: SHA256.digest(Array("guess".utf8))), backendPID: pid), nil),
                ("a revoked API key",
                 context.claim(orgID: world.acme, actor: .apiKey(world.revokedKey, presentedHash: world.revokedKeyHash), backendPID: pid), nil),
                ("an operator claim on the application's login",
                 context.claim(orgID: world.acme, actor: .platformOperator(world.ada), backendPID: pid), nil),
                ("no claim", nil, nil),
            ]
            for (name, claim, expected) in cases {
                try await app.execute("SELECT set_config('tenantkit.claim', \(claim ?? ""), false)")
                let principal = try await app.fetchOne("SELECT tenantkit.verified_principal()::text", as: String?.self)
                #expect(principal == expected, "\(verifier) verifier, \(name)")
            }
            await app.close()
        }
    }

    @Test(arguments: [Verifier.native, .portable])
    func aWriteChangesTheNextStatementsDecision(_ verifier: Verifier) async throws {
        try await Self.withDatabase(verifier) { db, world in
            let app = try await db.connect(user: "tenantkit_app")
            let admin = try await db.connect()
            let context = TestDatabase.context
            let acme = world.acme.uuidString.lowercased(), ada = world.ada.uuidString.lowercased()
            func principal(_ actor: OrgScope.Actor) async throws -> String? {
                let claim = context.claim(orgID: world.acme, actor: actor, backendPID: app.backendPID)
                return try await app.fetchOne(
                    "SELECT tenantkit.verified_principal()::text FROM (SELECT set_config('tenantkit.claim', \(claim), true)) s", as: String?.self)
            }
            let user = OrgScope.Actor.user(world.ada), key = OrgScope.Actor.apiKey(world.key, presentedHash: world.keyHash)
            #expect(try await principal(user) == "(\(acme),\(ada),,admin)")
            #expect(try await principal(key) != nil)

            try await admin.execute("UPDATE memberships SET role = 'viewer' WHERE org_id = \(world.acme) AND user_id = \(world.ada)")
            #expect(try await principal(user) == "(\(acme),\(ada),,viewer)", "a role change")

            // Inside a transaction that had already verified the claim, the next statement sees a removal.
            try await app.execute("BEGIN")
            #expect(try await principal(user) == "(\(acme),\(ada),,viewer)")
            try await admin.execute("DELETE FROM memberships WHERE org_id = \(world.acme) AND user_id = \(world.ada)")
            #expect(try await principal(user) == "(,\(ada),,)", "a removal during an open transaction")
            try await app.execute("COMMIT")

            try await admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(world.acme), \(world.ada), 'admin')")
            #expect(try await principal(user) == "(\(acme),\(ada),,admin)", "a membership added back")

            try await admin.execute("UPDATE api_keys SET revoked_at = now() WHERE id = \(world.key)")
            #expect(try await principal(key) == nil, "a revoked key")

            try await admin.execute("UPDATE tenantkit.context_keys SET retired_at = now()")
            #expect(try await principal(user) == nil, "a retired signing key")
            try await admin.execute("UPDATE tenantkit.context_keys SET retired_at = NULL")
            #expect(try await principal(user) == "(\(acme),\(ada),,admin)", "the key back in service")
            await app.close()
            await admin.close()
        }
    }

    /// A verdict read under a snapshot older than a change is never kept: after a statement that
    /// began before a removal (a long one, or a REPEATABLE READ transaction), the next statement
    /// refuses. The attack: keep a statement or transaction open across one's own removal.
    @Test(arguments: [Verifier.native, .portable])
    func aVerdictFromBeforeAChangeDoesNotOutliveIt(_ verifier: Verifier) async throws {
        try await Self.withDatabase(verifier) { db, world in
            let app = try await db.connect(user: "tenantkit_app")
            let admin = try await db.connect()
            let context = TestDatabase.context
            let acme = world.acme.uuidString.lowercased(), ada = world.ada.uuidString.lowercased()
            let user = OrgScope.Actor.user(world.ada), key = OrgScope.Actor.apiKey(world.key, presentedHash: world.keyHash)
            func claim(_ actor: OrgScope.Actor) -> String { context.claim(orgID: world.acme, actor: actor, backendPID: app.backendPID) }
            func principal(_ actor: OrgScope.Actor, after sleep: Double = 0) async throws -> String? {
                try await app.fetchOne("""
                    SELECT tenantkit.verified_principal()::text
                    FROM (SELECT set_config('tenantkit.claim', \(claim(actor)), true), pg_sleep(\(sleep))) s
                    """, as: String?.self)
            }
            // A statement that started before the removal decides as of its snapshot ...
            async let slow = principal(user, after: 1.0)
            try await Task.sleep(for: .milliseconds(300))
            try await admin.execute("DELETE FROM memberships WHERE org_id = \(world.acme) AND user_id = \(world.ada)")
            #expect(try await slow == "(\(acme),\(ada),,admin)")
            // ... and the next one refuses.
            #expect(try await principal(user) == "(,\(ada),,)", "a removal during a long statement")
            try await admin.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (\(world.acme), \(world.ada), 'admin')")
            #expect(try await principal(user) == "(\(acme),\(ada),,admin)")

            // REPEATABLE READ: statements of the transaction decide as of its snapshot (the native
            // verifier reads signing keys fresh, so a retired key stops at once there); the first
            // statement after it refuses the revoked key, the retired signing key.
            for (change, undo, actor, stillValidInside) in [
                ("UPDATE api_keys SET revoked_at = now() WHERE id = '\(world.key.uuidString.lowercased())'", nil, key, true),
                ("UPDATE tenantkit.context_keys SET retired_at = now()", "UPDATE tenantkit.context_keys SET retired_at = NULL", user,
                 verifier == .portable),
            ] as [(String, String?, OrgScope.Actor, Bool)] {
                try await app.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                #expect(try await principal(actor) != nil)
                try await admin.executeScript(unsafeSQL: change)
                #expect((try await principal(actor) != nil) == stillValidInside, "inside the transaction that began before: \(change)")
                try await app.execute("COMMIT")
                #expect(try await principal(actor) == nil, "after the transaction: \(change)")
                #expect(try await principal(actor) == nil, "and still after: \(change)")
                if let undo { try await admin.executeScript(unsafeSQL: undo) }
            }
            #expect(try await principal(user) == "(\(acme),\(ada),,admin)", "the key back in service")
            await app.close()
            await admin.close()
        }
    }

    /// Ada administers Acme, with an API key and a revoked one; Bob is a member of Globex only.
    struct World {
        let acme: UUID, ada: UUID, bob: UUID
        let key: UUID, keyHash: [UInt8], revokedKey: UUID, revokedKeyHash: [UInt8]
    }

    /// A database with `verifier`, or nil after saying that the native verifier's test did not run
    /// (the extension is not installed). CI sets TENANTKIT_REQUIRE_NATIVE_VERIFIER=1, where that fails.
    static func withDatabase(_ verifier: Verifier, _ body: (TestDatabase, World) async throws -> Void) async throws {
        try await TestDatabase.with(template: verifier == .native ? .migrated : .migratedPortable) { db in
            let language = try await PostgresConnection.withConnection(db.configuration) { admin in
                try await admin.fetchOne("""
                    SELECT l.lanname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                    WHERE p.oid = 'tenantkit.verified_principal()'::regprocedure
                    """, as: String.self)
            }
            switch (verifier, language) {
            case (.portable, "plpgsql"), (.native, "c"): break
            case (.native, _):
                let message = "the native verifier's test did not run: the server has no tenantkit_context extension "
                    + "(sudo make -C Extensions/tenantkit_context install)"
                if ProcessInfo.processInfo.environment["TENANTKIT_REQUIRE_NATIVE_VERIFIER"] == "1" {
                    Issue.record("\(message), and TENANTKIT_REQUIRE_NATIVE_VERIFIER=1")
                } else {
                    print("ContextVerifierTests: \(message)")
                }
                return
            case (.portable, _):
                Issue.record("the portable template verifies claims in \(language)")
                return
            }
            let store = db.makeStore()
            let ada = try await store.createUser(email: "ada@acme.test", emailVerified: true)
            let bob = try await store.createUser(email: "bob@globex.test", emailVerified: true)
            let acme = try await store.createOrganization(named: "Acme", by: ada.id)
            _ = try await store.createOrganization(named: "Globex", by: bob.id)
            let keys = ActiveOrg(scope: store.scope(acme, as: .user(ada.id))).apiKeys
            let key = try await keys.create(name: "ci"), revoked = try await keys.create(name: "old")
            try await keys.revoke(revoked.key.id)
            await store.pool.close()
            try await body(db, World(
                acme: acme, ada: ada.id, bob: bob.id,
                key: key.key.id, keyHash: SHA256.digest(Array(key.secret.utf8)),
                revokedKey: revoked.key.id, revokedKeyHash: SHA256.digest(Array(revoked.secret.utf8))))
        }
    }
}

import Foundation
import TenantKitMigrations
import TenantKitPostgres
import TenantKit
import TenantKitTesting
import TenantSQL
import Testing

/// The keyed audit chain and its checkpoints (Schema/0015), against the real database. Attacks on
/// the chain arrive as the owner would make them: a superuser login that `SET ROLE tenantkit_owner`,
/// switches the append-only triggers off, rewrites, re-chains (the owner can read the audit key)
/// and fixes `audit_chain_heads`. Appends and reads arrive as the application: raw SQL through an
/// ``OrgScope`` signed with the test key.
///
/// Self-contained on purpose: needs only `TestDatabase.with(template: .migrated)`, `makeStore()` and
/// the test context key.
@Suite struct AuditChainTests {
    // MARK: Checkpoints of an intact chain

    @Test func anIntactChainVerifiesAgainstEveryEarlierCheckpoint() async throws {
        try await AuditWorld.with { w in
            let first = try await w.a.audit.checkpoint()
            #expect(first.orgID == w.orgA)
            #expect(first.seq == 1)  // organization.created
            #expect(first.head.count == 32 && first.signature.count == 32)
            #expect(try await w.a.audit.checkpoint() == first, "the same head signs the same")

            try await w.append(w.a, 4)
            let second = try await w.a.audit.checkpoint()
            #expect(second.seq == 5)
            // Concurrent appends through the application keep one gapless keyed chain.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<12 { group.addTask { try await w.append(w.a, 1, label: "concurrent-\(i)") } }
                try await group.waitForAll()
            }

            for checkpoint in [first, second] {
                #expect(try await w.a.audit.verifyChain(against: checkpoint) == .intact(entries: 17))
            }
            #expect(try await w.a.audit.verifyChain() == .intact(entries: 17))
            #expect(try await w.owner { try await $0.fetchAll(
                "SELECT DISTINCT chain_version FROM audit_log WHERE org_id = \(w.orgA)", as: Int.self) } == [2])

            // Stored as JSON outside the database and read back: still the same checkpoint.
            let stored = try JSONEncoder().encode(second)
            let restored = try JSONDecoder().decode(AuditCheckpoint.self, from: stored)
            #expect(restored == second)
            #expect(try await w.a.audit.verifyChain(against: restored) == .intact(entries: 17))

            // B's chain is its own, and so are its checkpoints.
            let ofB = try await w.b.audit.checkpoint()
            #expect(ofB.orgID == w.orgB && ofB.seq == 1)
            #expect(try await w.b.audit.verifyChain(against: ofB) == .intact(entries: 1))
        }
    }

    @Test func anAlteredOrForeignCheckpointIsRefused() async throws {
        try await AuditWorld.with { w in
            try await w.append(w.a, 3)
            let real = try await w.a.audit.checkpoint()
            var flipped = [UInt8](real.head)
            flipped[0] ^= 1
            let altered = [
                AuditCheckpoint(orgID: real.orgID, seq: real.seq, head: Data(flipped), signature: real.signature),
                AuditCheckpoint(orgID: real.orgID, seq: real.seq - 1, head: real.head, signature: real.signature),
                AuditCheckpoint(orgID: real.orgID, seq: real.seq, head: real.head, signature: Data(repeating: 0, count: 32)),
                AuditCheckpoint(orgID: real.orgID, seq: real.seq, head: real.head, signature: Data()),
            ]
            for checkpoint in altered {
                #expect(try await w.a.audit.verifyChain(against: checkpoint) == .invalidCheckpoint)
            }

            // A's checkpoint does not verify B's chain, even with B's id written into it.
            let renamed = AuditCheckpoint(orgID: w.orgB, seq: real.seq, head: real.head, signature: real.signature)
            #expect(try await w.b.audit.verifyChain(against: renamed) == .invalidCheckpoint)
            #expect(await tenantError { try await w.b.audit.verifyChain(against: real) }
                == .invalidInput("the checkpoint is of another organization"))
            // Raw SQL in B's scope cannot check A's chain either.
            let foreign = await Iso.error(PostgresError.self) {
                try await w.b.scope.fetchAll(
                    "SELECT status FROM tenantkit_audit_verify_checkpoint(\(real.orgID), \(real.seq), \(real.head), \(real.signature))",
                    as: String.self)
            }
            #expect(foreign?.code == .insufficientPrivilege)
            #expect(foreign?.message == "the checkpoint is of another organization")
        }
    }

    // MARK: The owner rewrites history

    /// How the owner recomputes hashes after its edit: the v1 formula (sha256, no key), the v1
    /// formula with every entry relabelled chain_version 1 (a downgrade), or the keyed v2 formula
    /// with the audit key it can read.
    @Test(arguments: ["unkeyed", "downgraded to v1", "keyed"])
    func anOwnerRewriteIsReportedAgainstAnEarlierCheckpoint(rechain: String) async throws {
        try await AuditWorld.with { w in
            try await w.append(w.a, 4)  // seq 2...5
            let checkpoint = try await w.a.audit.checkpoint()
            #expect(checkpoint.seq == 5)
            try await w.append(w.a, 2)  // seq 6, 7
            let checkpointOfB = try await w.b.audit.checkpoint()

            // With the triggers on, not even the owner can change an entry.
            let refused = await Iso.error(PostgresError.self) {
                try await w.owner { try await $0.execute("UPDATE audit_log SET target = 'forged' WHERE org_id = \(w.orgA) AND seq = 3") }
            }
            #expect(refused?.code == SQLState("TK010"))
            #expect(refused?.message == "audit_log is append-only: UPDATE is not allowed")

            // So it switches them off, edits seq 3 and re-chains from there (or from seq 1 for the
            // downgrade), and moves the chain head along.
            let from = rechain == "downgraded to v1" ? 1 : 3
            let hash = switch rechain {
            case "keyed":
                "tenantkit.hmac_sha256(v_inner, v_outer, v_prev || tenantkit.audit_canonical_v2(org_id, seq, occurred_at, actor_user_id, actor_api_key_id, action, target, details))"
            default:
                "public.tenantkit_audit_row_hash(v_prev, org_id, seq, occurred_at, actor_user_id, actor_api_key_id, action, target, details)"
            }
            try await w.ownerScript("""
                ALTER TABLE audit_log DISABLE TRIGGER USER;
                DO $attack$
                DECLARE
                    v_org   uuid := '\(w.orgA.uuidString.lowercased())';
                    v_inner bytea;
                    v_outer bytea;
                    v_prev  bytea;
                    r       record;
                BEGIN
                    SELECT k.inner_pad, k.outer_pad INTO v_inner, v_outer FROM tenantkit.audit_keys k;
                    UPDATE public.audit_log SET target = 'forged', details = '{"amount": "1000000"}'
                     WHERE org_id = v_org AND seq = 3;
                    SELECT coalesce((SELECT a.hash FROM public.audit_log a WHERE a.org_id = v_org AND a.seq = \(from) - 1),
                                    decode(repeat('00', 32), 'hex')) INTO v_prev;
                    FOR r IN SELECT a.seq FROM public.audit_log a WHERE a.org_id = v_org AND a.seq >= \(from) ORDER BY a.seq LOOP
                        UPDATE public.audit_log
                           SET prev_hash = v_prev, hash = \(hash)
                               \(rechain == "downgraded to v1" ? ", chain_version = 1" : "")
                         WHERE org_id = v_org AND seq = r.seq
                        RETURNING hash INTO v_prev;
                    END LOOP;
                    UPDATE public.audit_chain_heads SET last_hash = v_prev WHERE org_id = v_org;
                END
                $attack$;
                ALTER TABLE audit_log ENABLE TRIGGER USER;
                """)
            #expect(try await w.a.audit.page(AuditFilter(action: "step")).items.first { $0.seq == 3 }?.target == "forged")

            switch rechain {
            case "unkeyed":
                // Without the keyed formula the edited entry no longer verifies: no checkpoint needed.
                #expect(try await w.a.audit.verifyChain() == .brokenAt(seq: 3))
                #expect(try await w.a.audit.verifyChain(against: checkpoint) == .rewritten(at: 3))
            default:
                // Re-chained consistently: the chain on its own looks intact, which is why
                // checkpoints exist. Against the one kept outside, the head at seq 5 is not its head.
                #expect(try await w.a.audit.verifyChain() == .intact(entries: 7))
                #expect(try await w.a.audit.verifyChain(against: checkpoint) == .rewritten(at: 5))
            }
            // A checkpoint taken after the rewrite signs the rewritten head: it is no proof of the
            // past (and does not launder entries that do not verify). B's chain was never touched.
            let afterwards = try await w.a.audit.checkpoint()
            #expect(try await w.a.audit.verifyChain(against: afterwards) == (rechain == "unkeyed" ? .rewritten(at: 3) : .intact(entries: 7)))
            #expect(try await w.b.audit.verifyChain(against: checkpointOfB) == .intact(entries: 1))

            if rechain == "keyed" {
                // An owner that also replaces the database's verifier with one that always says
                // intact is still caught: the client compares the stored head with the checkpoint.
                try await w.ownerScript("""
                    CREATE OR REPLACE FUNCTION public.tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea)
                    RETURNS TABLE (status text, seq bigint, entries bigint)
                    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
                    AS $liar$ SELECT 'intact'::text, NULL::bigint, 7::bigint $liar$;
                    """)
                #expect(try await w.a.audit.verifyChain(against: checkpoint) == .rewritten(at: 5))
            }
        }
    }

    @Test func aDeletedTailIsReportedAsTruncation() async throws {
        try await AuditWorld.with { w in
            try await w.append(w.a, 4)  // seq 2...5
            let checkpoint = try await w.a.audit.checkpoint()
            try await w.append(w.a, 2)  // seq 6, 7

            // The owner deletes seq 5 and later, leaving audit_chain_heads as it was.
            try await w.ownerScript("""
                ALTER TABLE audit_log DISABLE TRIGGER USER;
                DELETE FROM audit_log WHERE org_id = '\(w.orgA.uuidString.lowercased())' AND seq >= 5;
                ALTER TABLE audit_log ENABLE TRIGGER USER;
                """)
            #expect(try await w.a.audit.verifyChain() == .brokenAt(seq: 5))
            #expect(try await w.a.audit.verifyChain(against: checkpoint) == .truncated(expected: 5, found: 4))
            // No new checkpoint of a chain whose head has no entry.
            let noCheckpoint = await Iso.error(PostgresError.self) { try await w.a.audit.checkpoint() }
            #expect(noCheckpoint?.code == SQLState("TK011"))
            #expect(noCheckpoint?.message == "the audit chain head does not match its last entry")

            // Then it fixes the head too: the chain on its own looks intact; the checkpoint does not.
            try await w.ownerScript("""
                UPDATE audit_chain_heads h SET last_seq = 4, last_hash = a.hash
                  FROM audit_log a WHERE a.org_id = h.org_id AND a.seq = 4 AND h.org_id = '\(w.orgA.uuidString.lowercased())';
                """)
            #expect(try await w.a.audit.verifyChain() == .intact(entries: 4))
            #expect(try await w.a.audit.verifyChain(against: checkpoint) == .truncated(expected: 5, found: 4))

            // And refills the tail through the normal, keyed append path: the length is back, the
            // chain verifies, but the entry at the checkpoint's seq is not the one checkpointed.
            try await w.append(w.a, 3, label: "refill")
            #expect(try await w.a.audit.verifyChain() == .intact(entries: 7))
            #expect(try await w.a.audit.verifyChain(against: checkpoint) == .rewritten(at: 5))
        }
    }

    @Test func aDeletedOrMovedEntryBeforeTheCheckpointIsARewrite() async throws {
        try await AuditWorld.with { w in
            try await w.append(w.a, 5)  // seq 2...6
            let checkpoint = try await w.a.audit.checkpoint()
            try await w.append(w.a, 1)  // seq 7
            let org = w.orgA.uuidString.lowercased()
            try await w.ownerScript("""
                ALTER TABLE audit_log DISABLE TRIGGER USER;
                DELETE FROM audit_log WHERE org_id = '\(org)' AND seq = 4;
                ALTER TABLE audit_log ENABLE TRIGGER USER;
                """)
            #expect(try await w.a.audit.verifyChain() == .brokenAt(seq: 4))
            #expect(try await w.a.audit.verifyChain(against: checkpoint) == .rewritten(at: 4))
            // Past the checkpoint a break is a break, not a rewrite of what it covers.
            let later = try await AuditWorld.with { w2 in
                try await w2.append(w2.a, 3)  // seq 2...4
                let checkpoint = try await w2.a.audit.checkpoint()
                try await w2.append(w2.a, 3)  // seq 5...7
                try await w2.ownerScript("""
                    ALTER TABLE audit_log DISABLE TRIGGER USER;
                    UPDATE audit_log SET action = 'edited' WHERE org_id = '\(w2.orgA.uuidString.lowercased())' AND seq = 6;
                    ALTER TABLE audit_log ENABLE TRIGGER USER;
                    """)
                return try await w2.a.audit.verifyChain(against: checkpoint)
            }
            #expect(later == .brokenAt(seq: 6))
        }
    }

    // MARK: What the application role can do

    @Test func theAppRoleCannotReadTheKeyOrCallTheInternals() async throws {
        try await AuditWorld.with { w in
            try await w.append(w.a, 1)
            let denied: [(PostgresQuery, String)] = [
                ("SELECT count(*) FROM tenantkit.audit_keys", "permission denied for table audit_keys"),
                ("SELECT inner_pad FROM tenantkit.audit_keys", "permission denied for table audit_keys"),
                ("SELECT count(*) FROM audit_chain_heads", "permission denied for table audit_chain_heads"),
                ("SELECT tenantkit.hmac_sha256('\\x00'::bytea, '\\x00'::bytea, '\\x00'::bytea)", "permission denied for function hmac_sha256"),
                ("SELECT tenantkit.audit_field('x')", "permission denied for function audit_field"),
                ("""
                 SELECT tenantkit.audit_canonical_v2(org_id, seq, occurred_at, actor_user_id, actor_api_key_id, action, target, details)
                 FROM audit_log LIMIT 1
                 """, "permission denied for function audit_canonical_v2"),
                ("SELECT tenantkit.audit_checkpoint_message(\(w.orgA), 1, hash) FROM audit_log LIMIT 1",
                 "permission denied for function audit_checkpoint_message"),
                ("SELECT * FROM tenantkit.audit_chain_check(\(w.orgA), NULL, NULL)", "permission denied for function audit_chain_check"),
                ("UPDATE audit_log SET target = 'x' WHERE seq = 2", "permission denied for table audit_log"),
                ("DELETE FROM audit_log WHERE seq = 2", "permission denied for table audit_log"),
            ]
            for (statement, message) in denied {
                let error = await Iso.error(PostgresError.self) { try await w.a.scope.execute(statement) }
                #expect(error?.code == .insufficientPrivilege, "\(statement.sql)")
                #expect(error?.message == message, "\(statement.sql)")
            }

            // The catalog agrees: nothing of the key or the internals is the app's, and the two
            // new entry points are SECURITY DEFINER, pinned, and executable by the app alone. (The
            // pure encoding helpers carry no SET clause so that they inline.)
            struct Function: Decodable, Equatable { let name: String; let definer: Bool; let appMay: Bool; let publicMay: Bool; let config: [String] }
            let functions = try await w.owner { try await $0.fetchAll("""
                SELECT n.nspname || '.' || p.proname AS name, p.prosecdef AS definer,
                       has_function_privilege('tenantkit_app', p.oid, 'EXECUTE') AS app_may,
                       EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                               WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_may,
                       coalesce(p.proconfig, '{}') AS config
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE (n.nspname = 'tenantkit' AND (p.proname LIKE 'audit%' OR p.proname = 'hmac_sha256'))
                   OR (n.nspname = 'public' AND p.proname IN ('tenantkit_audit_checkpoint', 'tenantkit_audit_verify_checkpoint'))
                ORDER BY 1
                """, as: Function.self) }
            let pinned = ["search_path=pg_catalog, pg_temp"]
            #expect(functions == [
                Function(name: "public.tenantkit_audit_checkpoint", definer: true, appMay: true, publicMay: false, config: pinned),
                Function(name: "public.tenantkit_audit_verify_checkpoint", definer: true, appMay: true, publicMay: false, config: pinned),
                Function(name: "tenantkit.audit_canonical_v2", definer: false, appMay: false, publicMay: false, config: []),
                Function(name: "tenantkit.audit_chain_check", definer: false, appMay: false, publicMay: false, config: pinned),
                Function(name: "tenantkit.audit_checkpoint_message", definer: false, appMay: false, publicMay: false, config: []),
                Function(name: "tenantkit.audit_field", definer: false, appMay: false, publicMay: false, config: []),
                Function(name: "tenantkit.audit_key_reject_change", definer: false, appMay: false, publicMay: false, config: pinned),
                Function(name: "tenantkit.hmac_sha256", definer: false, appMay: false, publicMay: false, config: []),
            ])
            #expect(try await w.owner { try await $0.fetchOne("""
                SELECT has_table_privilege('tenantkit_app', 'tenantkit.audit_keys', 'SELECT')
                    OR has_table_privilege('tenantkit_app', 'tenantkit.audit_keys', 'INSERT')
                    OR has_table_privilege('tenantkit_operator', 'tenantkit.audit_keys', 'SELECT')
                """, as: Bool.self) } == false)

            // The key is fixed for the owner too (while the triggers are on).
            for statement: PostgresQuery in ["UPDATE tenantkit.audit_keys SET created_at = now()", "DELETE FROM tenantkit.audit_keys"] {
                let error = await Iso.error(PostgresError.self) { try await w.owner { try await $0.execute(statement) } }
                #expect(error?.code == SQLState("TK010"), "\(statement.sql)")
                #expect(error?.message.hasPrefix("the audit key cannot be changed") == true, "\(statement.sql)")
            }

            // Without a verified claim there is no checkpoint to take.
            let pool = w.db.makePool(user: "tenantkit_app", maxConnections: 1)
            let unsigned = await Iso.error(PostgresError.self) { try await pool.fetchAll("SELECT seq FROM tenantkit_audit_checkpoint()", as: Int64.self) }
            await pool.close()
            #expect(unsigned?.code == .insufficientPrivilege)
            #expect(unsigned?.message == "no verified organization")
        }
    }

    @Test func anAppendRecordsTheVerifiedActorWhateverItSupplies() async throws {
        try await AuditWorld.with { w in
            struct Stored: Decodable, Equatable { let actorUserID: UUID?; let actorAPIKeyID: UUID?; let chainVersion: Int16 }
            let impostor = UUID(), key = UUID()
            // An injection in Ada's request names Bob (and a key) as the actor, and version 1.
            let asAda = try await w.a.scope.fetchOne("""
                INSERT INTO audit_log (org_id, actor_user_id, actor_api_key_id, action, target, chain_version)
                VALUES (\(w.orgA), \(w.bob.id), \(key), 'member.removed', \(impostor.uuidString), 1)
                RETURNING actor_user_id, actor_api_key_id, chain_version
                """, as: Stored.self)
            #expect(asAda == Stored(actorUserID: w.ada.id, actorAPIKeyID: nil, chainVersion: 2))

            // An API key's request names a user: the key is the actor.
            let issued = try await w.a.apiKeys.create(name: "ci")
            let keyScope = try await w.store.session(apiKey: issued.secret)
            let asKey = try await keyScope.write { org in
                try await org.scope.fetchOne("""
                    INSERT INTO audit_log (actor_user_id, actor_api_key_id, action) VALUES (\(w.ada.id), \(key), 'deploy')
                    RETURNING actor_user_id, actor_api_key_id, chain_version
                    """, as: Stored.self)
            }.value
            #expect(asKey == Stored(actorUserID: nil, actorAPIKeyID: issued.key.id, chainVersion: 2))

            // The hash covers the actor actually stored.
            #expect(try await w.a.audit.verifyChain() == .intact(entries: 4))  // created, member.removed, api_key.created, deploy
            #expect(try await w.a.audit.verifyChain(against: try await w.a.audit.checkpoint()) == .intact(entries: 4))
        }
    }

    // MARK: Chains written before 0015

    @Test func entriesWrittenBeforeTheMigrationStayVerifiable() async throws {
        try await TestDatabase.with(template: .empty) { db in
            // Schema up to 0014, in a directory of its own.
            let schema = FileManager.default.temporaryDirectory.appendingPathComponent("tk-audit-upgrade-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: schema, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: schema) }
            let source = URL(fileURLWithPath: TestDatabaseTemplate.schemaDirectory)
            let files = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".sql") }.sorted()
            #expect(files.contains("0015_keyed_audit_chain.sql"))
            for file in files where file < "0015" {
                try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: schema.appendingPathComponent(file))
            }
            try await Migrator(directory: schema.path).up(configuration: db.configuration)
            try await PostgresConnection.withConnection(db.configuration) { try await TenantContextKey.forTesting.install(on: $0) }

            // An organization with history under the v1 chain.
            let (user, org, oldHead) = try await PostgresConnection.withConnection(db.configuration) { admin async throws in
                let user = try await admin.fetchOne("INSERT INTO users (email) VALUES ('old@legacy.test') RETURNING id", as: UUID.self)
                let org = try await admin.fetchOne("SELECT tenantkit.create_organization_for(\(user), 'Legacy')", as: UUID.self)
                for i in 0..<3 {
                    try await admin.execute("INSERT INTO audit_log (org_id, actor_user_id, action, target) VALUES (\(org), \(user), 'legacy', \(String(i)))")
                }
                return (user, org, try await admin.fetchOne("SELECT last_hash FROM audit_chain_heads WHERE org_id = \(org)", as: Data.self))
            }

            try FileManager.default.copyItem(
                at: source.appendingPathComponent("0015_keyed_audit_chain.sql"), to: schema.appendingPathComponent("0015_keyed_audit_chain.sql"))
            let run = try await Migrator(directory: schema.path).up(configuration: db.configuration)
            #expect(run.applied.map(\.version) == [15])

            let store = db.makeStore()
            let legacy = ActiveOrg(scope: store.scope(org, as: .user(user)))
            #expect(try await legacy.audit.verifyChain() == .intact(entries: 4))
            let atUpgrade = try await legacy.audit.checkpoint()
            #expect(atUpgrade.seq == 4 && atUpgrade.head == oldHead, "a head kept before the upgrade is still the head at its seq")
            for i in 0..<2 { try await legacy.scope.execute("INSERT INTO audit_log (action, target) VALUES ('keyed', \(String(i)))") }

            try await PostgresConnection.withConnection(db.configuration) { admin async throws in
                #expect(try await admin.fetchAll("SELECT chain_version FROM audit_log WHERE org_id = \(org) ORDER BY seq", as: Int.self)
                    == [1, 1, 1, 1, 2, 2])
                #expect(try await admin.fetchOne("SELECT prev_hash FROM audit_log WHERE org_id = \(org) AND seq = 5", as: Data.self) == oldHead)
            }
            #expect(try await legacy.audit.verifyChain() == .intact(entries: 6))
            #expect(try await legacy.audit.verifyChain(against: atUpgrade) == .intact(entries: 6))

            // A keyed entry relabelled v1 (re-hashed without the key) is a break, wherever it is.
            try await PostgresConnection.withConnection(db.configuration) { admin async throws in
                try await admin.executeScript(unsafeSQL: """
                    SET ROLE tenantkit_owner;
                    ALTER TABLE audit_log DISABLE TRIGGER USER;
                    UPDATE audit_log SET chain_version = 1,
                           hash = tenantkit_audit_row_hash(prev_hash, org_id, seq, occurred_at, actor_user_id, actor_api_key_id, action, target, details)
                     WHERE org_id = '\(org.uuidString.lowercased())' AND seq = 6;
                    ALTER TABLE audit_log ENABLE TRIGGER USER;
                    """)
            }
            #expect(try await legacy.audit.verifyChain() == .brokenAt(seq: 6))
            #expect(try await legacy.audit.verifyChain(against: atUpgrade) == .brokenAt(seq: 6))
            await store.pool.close()
        }
    }
}

// MARK: Support

/// Two organizations, A (Ada, admin) and B (Bob, admin), on a migrated database, through the store.
private struct AuditWorld: Sendable {
    let db: TestDatabase
    let store: TenantStore
    let ada: User
    let bob: User
    let orgA: UUID
    let orgB: UUID

    var a: ActiveOrg { ActiveOrg(scope: store.scope(orgA, as: .user(ada.id))) }
    var b: ActiveOrg { ActiveOrg(scope: store.scope(orgB, as: .user(bob.id))) }

    static func with<T>(_ body: (AuditWorld) async throws -> T) async throws -> T {
        try await TestDatabase.with(template: .migrated) { db in
            let store = db.makeStore(maxConnections: 6)
            do {
                let ada = try await store.createUser(email: "ada@a.test")
                let bob = try await store.createUser(email: "bob@b.test")
                let orgA = try await store.createOrganization(named: "A", by: ada.id)
                let orgB = try await store.createOrganization(named: "B", by: bob.id)
                let result = try await body(AuditWorld(db: db, store: store, ada: ada, bob: bob, orgA: orgA, orgB: orgB))
                await store.pool.close()
                return result
            } catch {
                await store.pool.close()
                throw error
            }
        }
    }

    /// `count` entries appended as the application, one statement (and transaction) each.
    func append(_ org: ActiveOrg, _ count: Int, label: String = "step") async throws {
        for i in 0..<count {
            try await org.scope.execute("INSERT INTO audit_log (action, target, details) VALUES ('step', \("\(label)-\(i)"), \(JSONB(["i": String(i)])))")
        }
    }

    /// `body` on a superuser connection that has become the owner (`SET ROLE tenantkit_owner`).
    func owner<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresConnection.withConnection(db.configuration) { connection in
            try await connection.execute("SET ROLE tenantkit_owner")
            return try await body(connection)
        }
    }

    /// A script run as the owner.
    func ownerScript(_ sql: String) async throws {
        try await owner { try await $0.executeScript(unsafeSQL: sql) }
    }
}


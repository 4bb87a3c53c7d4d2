import Foundation
import TenantKitPostgres
@testable import TenantSQL
import TenantKitTesting
import Testing

// Small tables of every scoping kind, declared like the real ones, for rendering and DB tests.

struct Orgs: Table {
    static let tableName = "orgs"
    static let scoping = TableScoping.tenant(orgColumn: "id")
    let reference: TableReference
    init(reference: TableReference) { self.reference = reference }
    var id: OrgColumn<UUID> { orgColumn() }
    var name: Column<String> { column("name") }
}

struct Accounts: Table {
    static let tableName = "accounts"
    static let scoping = TableScoping.global
    let reference: TableReference
    init(reference: TableReference) { self.reference = reference }
    var id: Column<UUID> { column("id") }
    var email: Column<String> { column("email") }
}

struct Projects: Table {
    static let tableName = "projects"
    static let scoping = TableScoping.tenant
    let reference: TableReference
    init(reference: TableReference) { self.reference = reference }
    var orgID: OrgColumn<UUID> { orgColumn() }
    var id: Column<UUID> { column("id") }
    var name: Column<String> { column("name") }
    var ownerID: Column<UUID?> { column("owner_id") }
    var parentID: Column<UUID?> { column("parent_id") }
    var score: Column<Int64> { column("score") }
    var createdAt: Column<Date> { column("created_at") }
    /// Declared wrongly on purpose: a plain column over the org column, to prove the runtime guard.
    var orgIDAsPlainColumn: Column<UUID> { column("org_id") }
}

struct Tasks: Table {
    static let tableName = "tasks"
    static let scoping = TableScoping.tenant
    let reference: TableReference
    init(reference: TableReference) { self.reference = reference }
    var orgID: OrgColumn<UUID> { orgColumn() }
    var id: Column<UUID> { column("id") }
    var projectID: Column<UUID> { column("project_id") }
    var title: Column<String> { column("title") }
    var done: Column<Bool> { column("done") }
    var points: Column<Int64> { column("points") }
}

struct Items: Table {
    static let tableName = "items"
    static let scoping = TableScoping.mixedCatalog(publicRowsIn: "public_items")
    let reference: TableReference
    init(reference: TableReference) { self.reference = reference }
    var id: Column<UUID> { column("id") }
    var orgID: OrgColumn<UUID?> { orgColumn() }
    var slug: Column<String> { column("slug") }
    var name: Column<String> { column("name") }
}

let orgA = UUID(uuidString: "aaaaaaaa-0000-0000-0000-000000000001")!
let orgB = UUID(uuidString: "bbbbbbbb-0000-0000-0000-000000000002")!
let userA = UUID(uuidString: "aaaaaaaa-1111-0000-0000-000000000001")!
let userB = UUID(uuidString: "bbbbbbbb-1111-0000-0000-000000000002")!

/// A scope that only renders (its host is never used by rendering tests).
struct RenderOnlyHost: OrgScopeHost {
    func query(_ query: PostgresQuery) async throws -> PostgresRows { fatalError("rendering tests send nothing") }
    func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] { fatalError("rendering tests send nothing") }
    func pipeline(prelude: @Sendable (Int32) throws -> [PostgresQuery], _ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        fatalError("rendering tests send nothing")
    }
    func withScopedTransaction<T: Sendable>(
        prelude: @Sendable (Int32) throws -> [PostgresQuery], isolation: PostgresConnection.IsolationLevel,
        _ body: @Sendable (PostgresTransaction) async throws -> T
    ) async throws -> T { fatalError("rendering tests send nothing") }
}

/// The SQL and the bound values (as text) of `statement` rendered for `org`.
func rendered(_ statement: some Statement, org: UUID = orgA) throws -> (sql: String, binds: [String]) {
    let (sql, values) = try SQLRenderer.inspect(statement, mode: .scoped(org))
    return (sql, values.map(describe))
}

func describe(_ value: any PostgresEncodable) -> String {
    switch value {
    case let uuid as UUID: uuid.uuidString.lowercased()
    case let uuid as UUID?: uuid.map { $0.uuidString.lowercased() } ?? "NULL"
    case let values as [UUID]: "[" + values.map { $0.uuidString.lowercased() }.joined(separator: ",") + "]"
    case let values as [String]: "[" + values.joined(separator: ",") + "]"
    case let values as [Int64]: "[" + values.map(String.init).joined(separator: ",") + "]"
    default: "\(value)"
    }
}

/// The role the DB tests run as: like tenantkit_app, it can neither bypass RLS nor own tables.
let appRole = "tenantsql_test_app"

/// Tables of every kind with TenantKit's RLS conventions, plus a minimal audit_log.
let testSchema = """
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantsql_test_app') THEN
            BEGIN
                CREATE ROLE tenantsql_test_app LOGIN NOSUPERUSER NOBYPASSRLS;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
        END IF;
    END $$;
    CREATE TABLE orgs (id uuid PRIMARY KEY, name text NOT NULL);
    CREATE TABLE accounts (id uuid PRIMARY KEY, email text NOT NULL);
    CREATE TABLE projects (
        org_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), name text NOT NULL,
        owner_id uuid, parent_id uuid, score bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id), UNIQUE (org_id, name));
    CREATE TABLE tasks (
        org_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), project_id uuid NOT NULL,
        title text NOT NULL, done boolean NOT NULL DEFAULT false, points bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (org_id, id));
    CREATE TABLE items (
        id uuid NOT NULL DEFAULT gen_random_uuid(), org_id uuid NOT NULL, slug text NOT NULL, name text NOT NULL,
        PRIMARY KEY (org_id, id), UNIQUE (org_id, slug));
    CREATE TABLE public_items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text NOT NULL UNIQUE, name text NOT NULL);
    CREATE TABLE audit_log (
        org_id uuid NOT NULL, seq bigserial,
        actor_user_id uuid DEFAULT nullif(current_setting('tenantkit.user_id', true), '')::uuid,
        action text NOT NULL, target text, details jsonb NOT NULL DEFAULT '{}');
    ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
    ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
    CREATE POLICY orgs_tenant ON orgs
        USING (id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
    ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
    ALTER TABLE projects FORCE ROW LEVEL SECURITY;
    CREATE POLICY projects_tenant ON projects
        USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
        WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
    ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
    ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
    CREATE POLICY tasks_tenant ON tasks
        USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
        WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
    ALTER TABLE items ENABLE ROW LEVEL SECURITY;
    ALTER TABLE items FORCE ROW LEVEL SECURITY;
    CREATE POLICY items_tenant ON items
        USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
        WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
    ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
    ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
    CREATE POLICY audit_log_tenant ON audit_log
        USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
        WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
    GRANT SELECT, INSERT, UPDATE, DELETE ON orgs, accounts, projects, tasks, items TO tenantsql_test_app;
    GRANT SELECT ON public_items TO tenantsql_test_app;
    GRANT SELECT, INSERT ON audit_log TO tenantsql_test_app;
    GRANT USAGE ON SEQUENCE audit_log_seq_seq TO tenantsql_test_app;
    """

/// Overlapping data (literal ids matching `orgA`, `orgB`, `userA`, `userB`): both orgs have projects "alpha" and "beta" with tasks, one private item each
/// (B's shadows a public slug), and two public items.
let testSeed = """
    INSERT INTO orgs VALUES ('aaaaaaaa-0000-0000-0000-000000000001', 'Org A'), ('bbbbbbbb-0000-0000-0000-000000000002', 'Org B');
    INSERT INTO accounts VALUES ('aaaaaaaa-1111-0000-0000-000000000001', 'a@example.com'), ('bbbbbbbb-1111-0000-0000-000000000002', 'b@example.com');
    INSERT INTO projects (org_id, id, name, owner_id, score) VALUES
        ('aaaaaaaa-0000-0000-0000-000000000001', 'a0000000-0000-0000-0000-00000000000a', 'alpha', 'aaaaaaaa-1111-0000-0000-000000000001', 10),
        ('aaaaaaaa-0000-0000-0000-000000000001', 'a0000000-0000-0000-0000-00000000000b', 'beta', NULL, 20),
        ('bbbbbbbb-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-00000000000a', 'alpha', 'bbbbbbbb-1111-0000-0000-000000000002', 30),
        ('bbbbbbbb-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-00000000000b', 'beta', 'aaaaaaaa-1111-0000-0000-000000000001', 40),
        ('bbbbbbbb-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-00000000000c', 'gamma', NULL, 50);
    UPDATE projects SET parent_id = id WHERE name = 'alpha';
    UPDATE projects p SET parent_id = q.id FROM projects q WHERE p.name = 'beta' AND q.name = 'alpha' AND q.org_id = p.org_id;
    INSERT INTO tasks (org_id, project_id, title, done, points) VALUES
        ('aaaaaaaa-0000-0000-0000-000000000001', 'a0000000-0000-0000-0000-00000000000a', 'write', false, 1),
        ('aaaaaaaa-0000-0000-0000-000000000001', 'a0000000-0000-0000-0000-00000000000a', 'test', true, 2),
        ('aaaaaaaa-0000-0000-0000-000000000001', 'a0000000-0000-0000-0000-00000000000b', 'ship', false, 3),
        ('bbbbbbbb-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-00000000000a', 'write', false, 5),
        ('bbbbbbbb-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-00000000000b', 'test', true, 8),
        ('bbbbbbbb-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-00000000000c', 'ship', false, 13);
    INSERT INTO public_items (slug, name) VALUES ('public-one', 'Public one'), ('public-two', 'Public two');
    INSERT INTO items (org_id, slug, name) VALUES
        ('aaaaaaaa-0000-0000-0000-000000000001', 'private-a', 'Private A'), ('bbbbbbbb-0000-0000-0000-000000000002', 'public-one', 'B shadow');
    """

/// A fresh database with the test schema and seed data; `body` gets it and a pool as the app role.
func withSeededDatabase<T>(
    maxConnections: Int = 2, _ body: (TestDatabase, PostgresPool) async throws -> T
) async throws -> T {
    try await TestDatabase.with { db in
        let admin = try await db.connect()
        try await admin.executeScript(unsafeSQL: testSchema + testSeed)
        await admin.close()
        let pool = db.makePool(user: appRole, maxConnections: maxConnections)
        do {
            let result = try await body(db, pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }
}

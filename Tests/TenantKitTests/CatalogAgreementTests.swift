import Foundation
import TenantKit
import TenantKitPostgres
import TenantKitTesting
import TenantSQL
import Testing

/// The Swift table declarations (`Sources/TenantKit/Tables`) against the migrated schema: one
/// declaration per table, checked, so a column renamed, retyped or added on one side only fails here.
@Suite struct CatalogAgreementTests {
    /// Tables of `public` that have no Swift declaration, and why.
    static let undeclared = [
        "audit_chain_heads": "only the audit trigger (SECURITY DEFINER) reads and writes it",
        "email_domain_claims": "only tenantkit_verify_org_domain (SECURITY DEFINER) touches it",
        "schema_migrations": "the migration runner's bookkeeping",
        "schema_functions": "the migration runner's record of the functions migrations define, for doctor",
    ]

    @Test func swiftDeclarationsAgreeWithTheMigratedCatalog() async throws {
        let problems = try await Self.problems()
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty)
    }

    /// The check itself: a column renamed in the database only is named on both sides.
    @Test func aColumnRenamedInTheDatabaseOnlyIsNamed() async throws {
        let problems = try await Self.problems(after: "ALTER TABLE runs RENAME COLUMN error TO failure")
        #expect(problems == [
            "runs.error: declared in RunsTable but the database has no such column",
            "runs.failure: in the database but not in RunsTable.columns",
        ])
    }

    /// The public catalog is read through the mixed declaration and written through its own: a
    /// column renamed there is named for both, and an ownerless private item is refused.
    @Test func theMixedCatalogsTwoTablesAreBothChecked() async throws {
        let problems = try await Self.problems(after: """
            ALTER TABLE public_catalog_items RENAME COLUMN name TO title;
            ALTER TABLE catalog_items DROP CONSTRAINT catalog_items_pkey CASCADE, ALTER COLUMN org_id DROP NOT NULL;
            """)
        #expect(problems == [
            "catalog_items.org_id: CatalogItemsTable is declared mixedCatalog(org_id, public rows in public_catalog_items) but the column allows NULL (a row of no organization)",
            "public_catalog_items.name: declared in CatalogItemsTable but the database has no such column",
            "public_catalog_items.title: in the database but not in CatalogItemsTable.columns",
            "public_catalog_items.name: declared in PublicCatalogItemsTable but the database has no such column",
            "public_catalog_items.title: in the database but not in PublicCatalogItemsTable.columns",
        ])
    }

    @Test func aRetypedColumnAndALostTenantWallAreNamed() async throws {
        let problems = try await Self.problems(after: """
            ALTER TABLE runs ALTER COLUMN cost TYPE integer;
            ALTER TABLE runs ALTER COLUMN error SET NOT NULL;
            ALTER TABLE api_keys NO FORCE ROW LEVEL SECURITY;
            CREATE TABLE notes (org_id uuid NOT NULL, body text);
            """)
        #expect(problems == [
            "api_keys: APIKeysTable is declared tenant(org_id) but row-level security is not forced",
            "runs.cost: RunsTable declares int8, the database has integer",
            "runs.error: RunsTable declares it optional but the database has it NOT NULL",
            "notes: in the database but no Swift declaration (declare it, or say why not)",
            "notes: it has an org_id column but row-level security is not enabled",
            "notes: it has an org_id column but row-level security is not forced",
        ])
    }

    /// The disagreements on a freshly migrated database after `change` (run as the superuser).
    static func problems(after change: String? = nil) async throws -> [String] {
        try await TestDatabase.with(template: .migrated) { db in
            let admin = try await db.connect()
            do {
                if let change { try await admin.executeScript(unsafeSQL: change) }
                let problems = try await CatalogAgreement.disagreements(TenantKitTables.all, undeclared: undeclared, on: admin)
                await admin.close()
                return problems
            } catch {
                await admin.close()
                throw error
            }
        }
    }
}

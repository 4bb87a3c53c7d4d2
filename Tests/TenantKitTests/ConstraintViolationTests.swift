import TenantKitPostgres
@testable import TenantKit
import TenantKitTesting
import Testing

/// TenantKit's rules are recognized by SQLSTATE and constraint name, from the constraint field on
/// one server and from the message when a Citus coordinator relays a worker's error without it.
/// The errors here are real server errors of both shapes (raised, so no cluster is needed).
@Suite struct ConstraintViolationTests {
    /// Real server errors of both shapes: `raise(code, message, constraint)` returns the error the
    /// server sends for `RAISE EXCEPTION USING MESSAGE, ERRCODE[, CONSTRAINT]`.
    private func withErrors(_ body: (_ raise: (String, String, String?) async throws -> PostgresError) async throws -> Void) async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            try await connection.execute("""
                CREATE FUNCTION raise_for_test(code text, message text, name text) RETURNS void LANGUAGE plpgsql AS $fn$
                BEGIN
                    IF name IS NULL THEN RAISE EXCEPTION USING MESSAGE = message, ERRCODE = code; END IF;
                    RAISE EXCEPTION USING MESSAGE = message, ERRCODE = code, CONSTRAINT = name;
                END $fn$
                """)
            do {
                try await body { code, message, constraint in
                    do {
                        try await connection.execute("SELECT raise_for_test(\(code), \(message), \(constraint))")
                    } catch let error as PostgresError {
                        return error
                    }
                    throw TenantError.invalidInput("raise_for_test raised nothing")
                }
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    @Test func aSingleServersErrorMatchesByItsConstraintField() async throws {
        try await withErrors { error in
            let duplicate = try await error("23505", "duplicate key value violates unique constraint \"catalog_items_org_slug_key\"",
                                            "catalog_items_org_slug_key")
            #expect(ConstraintViolation.duplicate("catalog_items_org_slug_key").matches(duplicate))
            #expect(!ConstraintViolation.duplicate("org_email_domains_pkey").matches(duplicate))
            // The same constraint name under another SQLSTATE is another error.
            #expect(!ConstraintViolation(code: .checkViolation, constraint: "catalog_items_org_slug_key").matches(duplicate))
            // A shard's constraint, as Citus's local execution on the coordinator reports it.
            let local = try await error("23514", "new row for relation \"org_email_domains_102050\" violates check constraint \"x\"",
                                        "org_email_domains_enabled_requires_verified_102050")
            #expect(ConstraintViolation.domainNotVerified.matches(local))
            let longer = try await error("23514", "x", "org_email_domains_enabled_requires_verified_extra")
            #expect(!ConstraintViolation.domainNotVerified.matches(longer))
        }
    }

    @Test func aRelayedWorkerErrorMatchesByTheNameInItsMessage() async throws {
        try await withErrors { error in
            let relayed = try await error("23505", "duplicate key value violates unique constraint \"catalog_items_org_slug_key_102040\"", nil)
            #expect(relayed.constraint == nil)
            #expect(ConstraintViolation.duplicate("catalog_items_org_slug_key").matches(relayed))
            #expect(!ConstraintViolation.duplicate("catalog_items_org").matches(relayed), "a prefix of the name is not the name")
            #expect(!ConstraintViolation.duplicate("items_org_slug_key").matches(relayed), "nor is a suffix")
            // Quotes of another language (lc_messages = 'de_DE'): the name still stands alone.
            let german = try await error("23514", "neue Zeile für Relation »org_email_domains_102050« verletzt Check-Constraint »org_email_domains_enabled_requires_verified_102050«", nil)
            #expect(ConstraintViolation.domainNotVerified.matches(german))
            // The ledger trigger's overdraft (Schema/0020), relayed without its constraint field.
            let overdraft = try await error("23514", "insufficient ECU balance: balance 3, amount -5 (violates check constraint \"ecu_accounts_balance_check\")", nil)
            #expect(ConstraintViolation.insufficientCredits.matches(overdraft))
            #expect(!ConstraintViolation.domainNotVerified.matches(overdraft))
        }
    }
}

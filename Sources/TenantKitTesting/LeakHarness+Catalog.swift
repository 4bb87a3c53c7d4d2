import Foundation
import TenantKitMigrations
import TenantKitPostgres

/// A tenant-isolation problem in the schema's catalog: the kind of mistake a new migration makes
/// (a table without FORCE, a policy that lets everything through), found without any data.
public struct CatalogFinding: Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier: `doctor`'s check ids (`rls-not-forced`, `no-policy`, ...), plus
    /// `no-permissive-policy-for-app` and `policy-ignores-org`.
    public let check: String
    /// What is wrong, named: `table public.widgets`, `policy widgets_all on public.widgets`.
    public let subject: String
    public let message: String

    public var description: String { "[\(check)] \(subject) \(message)" }
}

extension LeakHarness {
    /// `doctor`'s checks that bear on isolation (role attributes, ENABLE and FORCE, policies, views,
    /// definer functions), plus two of its own: every table with `org_id` has a permissive policy that
    /// applies to the connected role, and every permissive policy of such a table reads
    /// the verified org, `tenantkit.current_org()` (so a stray `USING (true)` policy, which PostgreSQL ORs with the others, is caught).
    ///
    /// ```swift
    /// let findings = try await LeakHarness.catalogSweep(configuration: db.configuration.with(user: "tenantkit_app"))
    /// #expect(findings.isEmpty, "\(findings)")
    /// ```
    ///
    /// Connect as the application role: the role checks are about the role connected.
    public static func catalogSweep(
        configuration: PostgresConfiguration,
        schema: String = "public",
        extraTables: [TableSpec] = [TableSpec("organizations", orgColumn: "id")]
    ) async throws -> [CatalogFinding] {
        let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        do {
            let findings = try await catalogSweep(connection: connection, schema: schema, extraTables: extraTables)
            await connection.close()
            return findings
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The doctor checks this sweep keeps (the others are about performance or migrations).
    static let isolationChecks: Set<DoctorCheck> = [
        .appRoleSuperuser, .appRoleBypassesRLS, .appRoleOwnsTables, .rlsNotEnabled, .rlsNotForced, .noPolicy,
        .viewWithoutSecurityInvoker, .definerWithoutSearchPath, .definerExecutableByPublic, .sessionSetting,
    ]

    /// ``catalogSweep(configuration:schema:extraTables:)`` on an open connection.
    public static func catalogSweep(
        connection: PostgresConnection,
        schema: String = "public",
        extraTables: [TableSpec] = [TableSpec("organizations", orgColumn: "id")]
    ) async throws -> [CatalogFinding] {
        let doctor = try await Doctor.check(connection: connection)
        var findings = doctor.findings.filter { isolationChecks.contains($0.check) }.map {
            CatalogFinding(check: $0.check.id, subject: $0.subject, message: $0.message)
        }

        struct PolicyRow: Decodable {
            let relation: String; let policy: String?; let qual: String?; let withCheck: String?
        }
        // One row per (tenant table, permissive policy that applies to the connected role); a
        // table without any such policy comes out once, with a NULL policy.
        let extraNames = extraTables.map(\.name)
        let rows = try await connection.fetchAll("""
            WITH tenant AS (
                SELECT c.oid, (quote_ident(n.nspname) || '.' || quote_ident(c.relname)) AS relation
                FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = \(schema) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                  AND (EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                               WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped)
                       OR c.relname = ANY(\(extraNames)::text[]))
                  -- A table the role cannot touch at all (only the owner's functions do) needs no policy for it.
                  AND pg_catalog.has_table_privilege(current_user, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
            )
            SELECT t.relation, p.polname::text AS policy,
                   pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                   pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
            FROM tenant t
            LEFT JOIN pg_catalog.pg_policy p
              ON p.polrelid = t.oid AND p.polpermissive
             AND (0::oid = ANY(p.polroles)
                  OR EXISTS (SELECT 1 FROM unnest(p.polroles) r
                             WHERE r <> 0 AND pg_catalog.pg_has_role(current_user, r, 'MEMBER')))
            ORDER BY 1, 2
            """, as: PolicyRow.self)
        for row in rows {
            guard let policy = row.policy else {
                findings.append(CatalogFinding(
                    check: "no-permissive-policy-for-app", subject: "table \(row.relation)",
                    message: "has no permissive row-level security policy that applies to the connected role, so it sees nothing (or the table is not meant for it: exclude it)"))
                continue
            }
            let expressions = [row.qual, row.withCheck].compactMap { $0 }
            if expressions.contains(where: { !$0.contains("tenantkit.current_org") }) {
                findings.append(CatalogFinding(
                    check: "policy-ignores-org", subject: "policy \(policy) on \(row.relation)",
                    message: "is permissive, applies to the connected role and has an expression that does not compare with tenantkit.current_org(); permissive policies are ORed, so it opens the table to every organization"))
            }
        }
        return findings
    }
}

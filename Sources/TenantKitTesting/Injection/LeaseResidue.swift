import TenantKitPostgres

/// The session state a pooled connection carries into its next lease, read on that connection:
/// who it runs as, the tenant settings, `search_path` and timeouts, session-level settings,
/// LISTEN channels, SQL-level prepared statements, open cursors, advisory locks and temp objects.
///
/// Compared with the same probe on a connection that only ran TenantKit's own scoped work, any
/// difference is state an attack left for whoever leases the connection next.
struct LeaseResidue: Sendable, Equatable {
    let values: [String: String]

    static func probe(_ pool: PostgresPool) async throws -> LeaseResidue {
        struct Entry: Decodable, Sendable { let name: String; let value: String }
        let entries = try await pool.withConnection { connection in
            try await connection.fetchAll("""
                SELECT name, coalesce(value, '') AS value FROM (VALUES
                    ('current_user', current_user::text),
                    ('session_user', session_user::text),
                    ('tenantkit.org_id', current_setting('tenantkit.org_id', true)),
                    ('tenantkit.user_id', current_setting('tenantkit.user_id', true)),
                    ('tenantkit.api_key_id', current_setting('tenantkit.api_key_id', true)),
                    ('tenantkit.claim', current_setting('tenantkit.claim', true)),
                    ('search_path', current_setting('search_path')),
                    ('statement_timeout', current_setting('statement_timeout')),
                    ('lock_timeout', current_setting('lock_timeout')),
                    ('default_transaction_read_only', current_setting('default_transaction_read_only')),
                    ('session settings', (SELECT string_agg(name || '=' || setting, ', ' ORDER BY name)
                                          FROM pg_catalog.pg_settings WHERE source = 'session')),
                    ('listening channels', (SELECT count(*)::text FROM pg_catalog.pg_listening_channels())),
                    ('prepared statements made by SQL', (SELECT count(*)::text FROM pg_catalog.pg_prepared_statements WHERE from_sql)),
                    ('open cursors', (SELECT count(*)::text FROM pg_catalog.pg_cursors)),
                    ('advisory locks held', (SELECT count(*)::text FROM pg_catalog.pg_locks
                                             WHERE pid = pg_catalog.pg_backend_pid() AND locktype = 'advisory')),
                    ('temp relations', (SELECT count(*)::text FROM pg_catalog.pg_class
                                        WHERE relnamespace = pg_catalog.pg_my_temp_schema())),
                    ('temp functions', (SELECT count(*)::text FROM pg_catalog.pg_proc
                                        WHERE pronamespace = pg_catalog.pg_my_temp_schema()))
                ) AS v(name, value)
                """, as: Entry.self)
        }
        return LeaseResidue(values: Dictionary(entries.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
    }

    /// What differs from `clean`, one line per item.
    func differences(from clean: LeaseResidue) -> [String] {
        values.keys.sorted().compactMap { name in
            let now = values[name] ?? "", then = clean.values[name] ?? ""
            return now == then ? nil : "\(name) is '\(now)' on the next lease (a clean connection has '\(then)')"
        }
    }
}

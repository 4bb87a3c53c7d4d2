extension InjectionCorpus {
    /// #1: relations a SECURITY DEFINER function names unqualified resolve in the caller's `pg_temp`
    /// first unless its `search_path` names `pg_temp` last; a temp view calling a temp function
    /// then runs that function as the function's owner. (Entry points as of 0014: they take their
    /// user from the claim. The payloads need TEMPORARY and plpgsql, which 0012 took from the app.)
    static let definerShadowing: [InjectionAttack] = [
        InjectionAttack(
            "pg_temp view over users: tenantkit_create_organization runs a payload as the owner that switches RLS off",
            finding: .definerTempShadowing,
            steps: [
                .transaction([
                    """
                    CREATE FUNCTION pg_temp.tk_payload() RETURNS TABLE (id uuid) LANGUAGE plpgsql AS $$
                    BEGIN
                        IF current_user = 'tenantkit_owner' THEN
                            EXECUTE 'ALTER TABLE public.memberships NO FORCE ROW LEVEL SECURITY';
                            EXECUTE 'ALTER TABLE public.memberships DISABLE ROW LEVEL SECURITY';
                            EXECUTE 'ALTER TABLE public.organizations NO FORCE ROW LEVEL SECURITY';
                            EXECUTE 'ALTER TABLE public.organizations DISABLE ROW LEVEL SECURITY';
                        END IF;
                        RETURN QUERY SELECT u.id FROM public.users u;
                    END $$
                    """,
                    "CREATE TEMP VIEW users AS SELECT * FROM pg_temp.tk_payload()",
                    "GRANT SELECT ON pg_temp.users TO tenantkit_owner",
                    "SELECT tenantkit_create_organization('Shadowed')",
                ]),
                .statement("SELECT o.id, o.name, m.user_id, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id"),
            ]),
        InjectionAttack(
            "pg_temp view over memberships: tenantkit_user_organizations installs a backdoor definer function",
            finding: .definerTempShadowing,
            steps: [
                .transaction([
                    """
                    CREATE FUNCTION pg_temp.tk_payload() RETURNS SETOF public.memberships LANGUAGE plpgsql AS $$
                    BEGIN
                        IF current_user = 'tenantkit_owner' THEN
                            EXECUTE $b$CREATE OR REPLACE FUNCTION public.tenantkit_support_read()
                                RETURNS SETOF public.organizations LANGUAGE sql SECURITY DEFINER
                                SET search_path = pg_catalog, public SET tenantkit.cross_org_read = 'on'
                                AS 'SELECT * FROM public.organizations'$b$;
                            EXECUTE 'GRANT EXECUTE ON FUNCTION public.tenantkit_support_read() TO tenantkit_app';
                        END IF;
                        RETURN QUERY SELECT * FROM public.memberships;
                    END $$
                    """,
                    "CREATE TEMP VIEW memberships AS SELECT * FROM pg_temp.tk_payload()",
                    "GRANT SELECT ON pg_temp.memberships TO tenantkit_owner",
                    "SELECT * FROM tenantkit_user_organizations()",
                ]),
                .statement("SELECT id, name, settings FROM tenantkit_support_read()"),
            ]),
        InjectionAttack(
            "pg_temp view over users: tenantkit_join_by_email_domain rewrites B's audit log as the owner",
            finding: .definerTempShadowing,
            steps: [
                .transaction([
                    """
                    CREATE FUNCTION pg_temp.tk_payload() RETURNS TABLE (id uuid, email text, email_verified boolean)
                    LANGUAGE plpgsql AS $$
                    BEGIN
                        IF current_user = 'tenantkit_owner' THEN
                            EXECUTE 'ALTER TABLE public.audit_log DISABLE TRIGGER USER';
                            PERFORM set_config('tenantkit.org_id', '{{org_b}}', true);
                            UPDATE public.audit_log SET target = 'rewritten by org A' WHERE org_id = '{{org_b}}';
                            DELETE FROM public.audit_chain_heads WHERE org_id = '{{org_b}}';
                            EXECUTE 'ALTER TABLE public.audit_log ENABLE TRIGGER USER';
                        END IF;
                        RETURN QUERY SELECT u.id, u.email, u.email_verified FROM public.users u;
                    END $$
                    """,
                    "CREATE TEMP VIEW users AS SELECT * FROM pg_temp.tk_payload()",
                    "GRANT SELECT ON pg_temp.users TO tenantkit_owner",
                    "SELECT * FROM tenantkit_join_by_email_domain()",
                ]),
            ]),
        InjectionAttack(
            "pg_temp table shadows ecu_accounts inside the ledger trigger: a debit that costs nothing",
            finding: .definerTempShadowing,
            attackers: [.adminOfA, .viewerOfA, .apiKeyOfA],
            steps: [
                .transaction([
                    """
                    CREATE TEMP TABLE ecu_accounts (org_id uuid PRIMARY KEY, balance bigint NOT NULL DEFAULT 0,
                        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())
                    """,
                    "INSERT INTO pg_temp.ecu_accounts (org_id, balance) VALUES ('{{org_a}}', 1000000000000)",
                    "GRANT ALL ON pg_temp.ecu_accounts TO tenantkit_owner",
                    "INSERT INTO ecu_ledger (amount, reason, idempotency_key) VALUES (-500000, 'shadowed debit', 'shadowed-debit-1')",
                ]),
            ]),
    ]
}

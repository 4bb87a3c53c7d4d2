SET LOCAL ROLE tenantkit_owner;

-- 0013_verified_policies: every policy keyed on the verified claim (0012), role rules as
-- policies, and RLS on users.
--
-- Conventions from here on:
--   * Application policies are `TO tenantkit_app` (and tenantkit_operator where the platform
--     acts) and compare with `(SELECT tenantkit.current_org())` or, for writes that need a role,
--     `(SELECT tenantkit.current_org_for('{admin}'))`. The sub-select makes the check an InitPlan:
--     verified once per statement, not once per row, and usable as an index condition.
--   * "<table>_definer" policies are `TO tenantkit_owner`: the owner never logs in, so the only
--     code running as the owner is the SECURITY DEFINER functions of these migrations.
--   * Columns that say who acted or which org default to the verified context.

DROP POLICY organizations_tenant ON organizations;
DROP POLICY organizations_definer_read ON organizations;
DROP POLICY memberships_tenant ON memberships;
DROP POLICY memberships_definer_read ON memberships;
DROP POLICY invitations_tenant ON invitations;
DROP POLICY invitations_definer_read ON invitations;
DROP POLICY org_email_domains_tenant ON org_email_domains;
DROP POLICY org_email_domains_definer_read ON org_email_domains;
DROP POLICY email_domain_claims_tenant ON email_domain_claims;
DROP POLICY email_domain_claims_definer_read ON email_domain_claims;
DROP POLICY catalog_items_read ON catalog_items;
DROP POLICY catalog_items_insert ON catalog_items;
DROP POLICY catalog_items_update ON catalog_items;
DROP POLICY catalog_items_delete ON catalog_items;
DROP POLICY catalog_items_public_curation ON catalog_items;
DROP POLICY api_keys_tenant ON api_keys;
DROP POLICY api_keys_definer_read ON api_keys;
DROP POLICY runs_tenant ON runs;
DROP POLICY ecu_accounts_tenant ON ecu_accounts;
DROP POLICY ecu_ledger_tenant ON ecu_ledger;
DROP POLICY audit_chain_heads_tenant ON audit_chain_heads;
DROP POLICY audit_log_tenant ON audit_log;

ALTER TABLE memberships       ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE invitations       ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE invitations       ALTER COLUMN invited_by SET DEFAULT tenantkit.current_user_id();
ALTER TABLE org_email_domains ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE catalog_items     ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE api_keys          ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE api_keys          ALTER COLUMN created_by SET DEFAULT tenantkit.current_user_id();
ALTER TABLE runs              ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE runs              ALTER COLUMN user_id SET DEFAULT tenantkit.current_user_id();
ALTER TABLE runs              ALTER COLUMN api_key_id SET DEFAULT tenantkit.current_api_key_id();
ALTER TABLE ecu_accounts      ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE ecu_ledger        ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE audit_log         ALTER COLUMN org_id SET DEFAULT tenantkit.current_org();
ALTER TABLE audit_log         ALTER COLUMN actor_user_id SET DEFAULT tenantkit.current_user_id();
ALTER TABLE audit_log         ALTER COLUMN actor_api_key_id SET DEFAULT tenantkit.current_api_key_id();

-- ---------------------------------------------------------------------------------------------
-- organizations: members read their org; admins rename it and change its settings.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY organizations_member_read ON organizations FOR SELECT TO tenantkit_app, tenantkit_operator
    USING (id = (SELECT tenantkit.current_org()));
CREATE POLICY organizations_admin_update ON organizations FOR UPDATE TO tenantkit_app
    USING (id = (SELECT tenantkit.current_org_for('{admin}')))
    WITH CHECK (id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY organizations_definer ON organizations TO tenantkit_owner USING (true) WITH CHECK (true);

-- ---------------------------------------------------------------------------------------------
-- memberships: members see who is in their org; admins change roles and remove members; anyone
-- may leave. People join only through the entry points (0014).
-- ---------------------------------------------------------------------------------------------
CREATE POLICY memberships_member_read ON memberships FOR SELECT TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY memberships_admin_update ON memberships FOR UPDATE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}')))
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY memberships_remove ON memberships FOR DELETE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}'))
           OR (org_id = (SELECT tenantkit.current_org()) AND user_id = (SELECT tenantkit.current_user_id())));
CREATE POLICY memberships_definer ON memberships TO tenantkit_owner USING (true) WITH CHECK (true);

REVOKE INSERT, UPDATE ON memberships FROM tenantkit_app;
GRANT UPDATE (role) ON memberships TO tenantkit_app;

-- ---------------------------------------------------------------------------------------------
-- invitations: admins only (the rows carry token hashes). Accepted through the entry point.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY invitations_admin ON invitations TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}')))
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY invitations_definer ON invitations TO tenantkit_owner USING (true) WITH CHECK (true);

REVOKE UPDATE, DELETE ON invitations FROM tenantkit_app;
GRANT UPDATE (revoked_at) ON invitations TO tenantkit_app;

-- ---------------------------------------------------------------------------------------------
-- org_email_domains: members see them; admins manage them. Verification is an entry point.
-- email_domain_claims: entry points only.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY org_email_domains_member_read ON org_email_domains FOR SELECT TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY org_email_domains_admin_insert ON org_email_domains FOR INSERT TO tenantkit_app
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY org_email_domains_admin_update ON org_email_domains FOR UPDATE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}')))
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY org_email_domains_admin_delete ON org_email_domains FOR DELETE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY org_email_domains_definer ON org_email_domains TO tenantkit_owner USING (true) WITH CHECK (true);

CREATE POLICY email_domain_claims_definer ON email_domain_claims TO tenantkit_owner USING (true) WITH CHECK (true);

-- ---------------------------------------------------------------------------------------------
-- catalog_items: the public catalog plus the org's private items; members (not viewers) write.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY catalog_items_read ON catalog_items FOR SELECT TO tenantkit_app
    USING (org_id IS NULL OR org_id = (SELECT tenantkit.current_org()));
CREATE POLICY catalog_items_insert ON catalog_items FOR INSERT TO tenantkit_app
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin,member}')));
CREATE POLICY catalog_items_update ON catalog_items FOR UPDATE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin,member}')))
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin,member}')));
CREATE POLICY catalog_items_delete ON catalog_items FOR DELETE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin,member}')));
-- The operator curates the public catalog through migrations or the owner's members.
CREATE POLICY catalog_items_definer ON catalog_items TO tenantkit_owner USING (true) WITH CHECK (true);

-- ---------------------------------------------------------------------------------------------
-- api_keys: admins manage them; a key sees its own row. Hashes and prefixes become unique
-- across all orgs in 0014.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY api_keys_read ON api_keys FOR SELECT TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}'))
           OR (org_id = (SELECT tenantkit.current_org()) AND id = (SELECT tenantkit.current_api_key_id())));
CREATE POLICY api_keys_admin_insert ON api_keys FOR INSERT TO tenantkit_app
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY api_keys_admin_update ON api_keys FOR UPDATE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin}')))
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin}')));
CREATE POLICY api_keys_definer ON api_keys TO tenantkit_owner USING (true) WITH CHECK (true);

REVOKE UPDATE ON api_keys FROM tenantkit_app;
GRANT UPDATE (revoked_at) ON api_keys TO tenantkit_app;

-- ---------------------------------------------------------------------------------------------
-- runs: members start and finish them; a run's cost is fixed by its debit (0014).
-- ---------------------------------------------------------------------------------------------
CREATE POLICY runs_read ON runs FOR SELECT TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY runs_insert ON runs FOR INSERT TO tenantkit_app
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin,member}')));
CREATE POLICY runs_update ON runs FOR UPDATE TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org_for('{admin,member}')))
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin,member}')));
CREATE POLICY runs_definer ON runs TO tenantkit_owner USING (true) WITH CHECK (true);

REVOKE UPDATE ON runs FROM tenantkit_app;
GRANT UPDATE (status, error, started_at, finished_at) ON runs TO tenantkit_app;

-- ---------------------------------------------------------------------------------------------
-- Credits: members spend (negative postings); only the platform operator grants.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY ecu_accounts_read ON ecu_accounts FOR SELECT TO tenantkit_app, tenantkit_operator
    USING (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY ecu_accounts_definer ON ecu_accounts TO tenantkit_owner USING (true) WITH CHECK (true);

CREATE POLICY ecu_ledger_read ON ecu_ledger FOR SELECT TO tenantkit_app, tenantkit_operator
    USING (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY ecu_ledger_spend ON ecu_ledger FOR INSERT TO tenantkit_app
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{admin,member}')) AND amount <= 0);  -- 0: the CHECK names it
CREATE POLICY ecu_ledger_grant ON ecu_ledger FOR INSERT TO tenantkit_operator
    WITH CHECK (org_id = (SELECT tenantkit.current_org_for('{operator}')));
CREATE POLICY ecu_ledger_definer ON ecu_ledger TO tenantkit_owner USING (true) WITH CHECK (true);

GRANT SELECT ON ecu_accounts TO tenantkit_operator;
GRANT SELECT, INSERT ON ecu_ledger TO tenantkit_operator;

-- ---------------------------------------------------------------------------------------------
-- Audit: members read their org's log; every principal of the org appends to it.
-- ---------------------------------------------------------------------------------------------
CREATE POLICY audit_log_read ON audit_log FOR SELECT TO tenantkit_app, tenantkit_operator
    USING (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY audit_log_append ON audit_log FOR INSERT TO tenantkit_app, tenantkit_operator
    WITH CHECK (org_id = (SELECT tenantkit.current_org()));
CREATE POLICY audit_log_definer ON audit_log TO tenantkit_owner USING (true) WITH CHECK (true);
CREATE POLICY audit_chain_heads_definer ON audit_chain_heads TO tenantkit_owner USING (true) WITH CHECK (true);

GRANT SELECT, INSERT ON audit_log TO tenantkit_operator;
GRANT SELECT ON organizations TO tenantkit_operator;

-- ---------------------------------------------------------------------------------------------
-- users: a principal sees itself and the members of its active org, and changes only its own
-- display name. Creating users and changing or verifying emails go through entry points (0014).
-- ---------------------------------------------------------------------------------------------
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

CREATE POLICY users_visible ON users FOR SELECT TO tenantkit_app
    USING (id = (SELECT tenantkit.current_user_id())
           OR id IN (SELECT m.user_id FROM memberships m));  -- memberships' own policy: the active org's
CREATE POLICY users_own_profile ON users FOR UPDATE TO tenantkit_app
    USING (id = (SELECT tenantkit.current_user_id()))
    WITH CHECK (id = (SELECT tenantkit.current_user_id()));
CREATE POLICY users_definer ON users TO tenantkit_owner USING (true) WITH CHECK (true);

REVOKE INSERT, UPDATE ON users FROM tenantkit_app;
GRANT UPDATE (display_name) ON users TO tenantkit_app;

SET LOCAL ROLE tenantkit_owner;

-- 0019_shard_safe_triggers: what the schema needs to run unchanged on the shards of a Citus
-- cluster, harmless on one server.
--
-- 1. Two trigger functions decided by TG_TABLE_NAME, which on a Citus shard is the shard's name
--    (`runs_102026`): tenantkit.stamp_actor() failed every insert there ("case not found"), and
--    tenantkit.require_context_org() stopped stamping audit actors with the verified principal,
--    which let the application write any actor into its own org's audit log. The triggers now
--    pass the table's own name as an argument, which Citus copies to every shard.
CREATE OR REPLACE FUNCTION tenantkit.stamp_actor()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_principal tenantkit.principal;
BEGIN
    IF pg_has_role(current_user, 'tenantkit_owner', 'USAGE') THEN
        RETURN NEW;
    END IF;
    v_principal := tenantkit.verified_principal();
    CASE coalesce(TG_ARGV[0], TG_TABLE_NAME)
    WHEN 'runs' THEN
        NEW.user_id := v_principal.user_id;
        NEW.api_key_id := v_principal.api_key_id;
    WHEN 'api_keys' THEN
        NEW.created_by := v_principal.user_id;
    WHEN 'invitations' THEN
        NEW.invited_by := v_principal.user_id;
        NEW.accepted_at := NULL;
        NEW.accepted_by := NULL;
    END CASE;
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION tenantkit.require_context_org()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_principal tenantkit.principal;
    v_table     text := coalesce(TG_ARGV[0], TG_TABLE_NAME);
BEGIN
    IF pg_has_role(current_user, 'tenantkit_owner', 'USAGE') THEN
        RETURN NEW;
    END IF;
    v_principal := tenantkit.verified_principal();
    IF NEW.org_id IS DISTINCT FROM v_principal.org_id THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "%"', v_table
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_table = 'audit_log' THEN
        NEW.actor_user_id := v_principal.user_id;
        NEW.actor_api_key_id := v_principal.api_key_id;
    END IF;
    RETURN NEW;
END
$fn$;

DROP TRIGGER a0_runs_actor ON runs;
CREATE TRIGGER a0_runs_actor BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor('runs');
DROP TRIGGER a0_api_keys_actor ON api_keys;
CREATE TRIGGER a0_api_keys_actor BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor('api_keys');
DROP TRIGGER a0_invitations_actor ON invitations;
CREATE TRIGGER a0_invitations_actor BEFORE INSERT ON invitations FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor('invitations');
DROP TRIGGER a0_ecu_ledger_context ON ecu_ledger;
CREATE TRIGGER a0_ecu_ledger_context BEFORE INSERT ON ecu_ledger
    FOR EACH ROW EXECUTE FUNCTION tenantkit.require_context_org('ecu_ledger');
DROP TRIGGER a0_audit_log_context ON audit_log;
CREATE TRIGGER a0_audit_log_context BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tenantkit.require_context_org('audit_log');

-- 2. users_visible (0013) holds a subquery over memberships, which Citus refuses in a policy on a
--    distributed or reference table. `tenantkit citus distribute` rewrites it to call this
--    function instead; on one server the policy keeps its subquery (planned once per statement).
CREATE FUNCTION tenantkit.user_shares_current_org(p_user uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT EXISTS (SELECT 1 FROM public.memberships m
                    WHERE m.org_id = tenantkit.current_org() AND m.user_id = p_user)
$fn$;
REVOKE ALL ON FUNCTION tenantkit.user_shares_current_org(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit.user_shares_current_org(uuid) TO tenantkit_app, tenantkit_operator;

SET LOCAL ROLE tenantkit_owner;

-- 0016_injection_fixes: gaps the injection suite (InjectionSuiteTests) found after 0012-0015.
--
-- 1. tenantkit_user_by_email(email) is sign-in's lookup, callable without a claim (no one is
--    signed in yet). Since 0014 it returned the user's display_name too, to anyone who can run SQL
--    as tenantkit_app: an injection in org A that knows an email address of org B (a guessable
--    one, or from B's own website) read the name of B's person behind it, which `users`' row-level
--    security (0013) hides from A. Sign-in needs the id (to sign a claim for it) and whether the
--    email is verified, not the profile. The display name now follows the rule of `users`' policy:
--    it is returned to the user themself or to a member of the verified org the user belongs to,
--    NULL otherwise (so `TenantStore.user(email:)` before sign-in has `displayName == nil`; the
--    profile comes with `TenantStore.user(id:)`, under the user's own claim). What stays visible
--    without a claim: that the address is taken, by which user id, and whether it is verified,
--    which sign-in needs (the README's "globally unique values say taken" residual).
CREATE OR REPLACE FUNCTION tenantkit_user_by_email(p_email text)
RETURNS TABLE (id uuid, email text, email_verified boolean, display_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT u.id, u.email, u.email_verified,
           CASE WHEN u.id = tenantkit.current_user_id()
                  OR EXISTS (SELECT 1 FROM public.memberships m
                              WHERE m.user_id = u.id AND m.org_id = tenantkit.current_org())
                THEN u.display_name END
      FROM public.users u
     WHERE lower(u.email) = lower(p_email)
$fn$;

-- 2. Who did it is the verified principal, in the org's own rows too: a run's user or key, a key's
--    creator, an invitation's sender (and an invitation cannot be inserted as already accepted).
--    Before this, SQL of the application could attribute its own org's rows to another member.
--    Fires first (name order) and as the invoker; the owner's own functions write what they mean.
CREATE FUNCTION tenantkit.stamp_actor()
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
    CASE TG_TABLE_NAME
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
REVOKE ALL ON FUNCTION tenantkit.stamp_actor() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit.stamp_actor() TO tenantkit_app;

CREATE TRIGGER a0_runs_actor BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor();
CREATE TRIGGER a0_api_keys_actor BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor();
CREATE TRIGGER a0_invitations_actor BEFORE INSERT ON invitations FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor();

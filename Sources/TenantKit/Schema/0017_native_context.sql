-- 0017_native_context: the claim verified in C where the server has TenantKit's extension.
--
-- The portable verifier of 0012 is plpgsql over built-in functions, so it runs on any
-- PostgreSQL, managed ones included. It costs about 90 us per statement (two lookups and two
-- OpenSSL digests, set up again in every transaction), more than the point read it guards.
-- `Extensions/tenantkit_context` makes the same decisions in C, with each key's HMAC states and
-- the memberships and keys it has seen valid cached per backend; statement triggers on the three
-- tables empty every backend's cache when a write commits.
--
-- tenantkit.use_native_verifier() makes the switch where the extension is installed (`make -C
-- Extensions/tenantkit_context install`): it renames the portable verifier to
-- tenantkit.verified_principal_portable() and creates the extension, whose
-- tenantkit.verified_principal() takes its place. Policies and entry points call it by name, so
-- nothing else changes. It returns false, changing nothing, where the extension is not
-- available. This file calls it; after installing the extension on a server migrated earlier,
-- call it once as the migration role. `tenantkit doctor` says which verifier a database uses.
-- The extension is trusted: a migration role with CREATE on the database may create it. To keep
-- the portable verifier, migrate with `tenantkit.context_verifier = portable` set (for example
-- PGOPTIONS='-c tenantkit.context_verifier=portable').
CREATE FUNCTION tenantkit.use_native_verifier()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'tenantkit_context') THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'tenantkit_context') THEN
        RETURN false;
    END IF;
    ALTER FUNCTION tenantkit.verified_principal() RENAME TO verified_principal_portable;
    BEGIN
        CREATE EXTENSION tenantkit_context SCHEMA tenantkit;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'cannot create extension tenantkit_context as %', current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Grant CREATE on the database to the migration role, or run this as a superuser once.';
    END;
    CREATE TRIGGER context_cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenantkit.context_keys
        FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    CREATE TRIGGER context_cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.memberships
        FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    -- Not on every UPDATE: last_used_at changes once a minute per key and decides nothing.
    CREATE TRIGGER context_cache_invalidate AFTER UPDATE OF id, org_id, key_hash, revoked_at OR DELETE OR TRUNCATE
        ON public.api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    RETURN true;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.use_native_verifier() FROM PUBLIC;
ALTER FUNCTION tenantkit.use_native_verifier() OWNER TO tenantkit_owner;

SELECT tenantkit.use_native_verifier()
 WHERE pg_catalog.current_setting('tenantkit.context_verifier', true) IS DISTINCT FROM 'portable';

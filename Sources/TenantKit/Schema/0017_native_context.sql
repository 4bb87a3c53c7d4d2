-- 0017_native_context: the claim verified in C where the server has TenantKit's extension.
--
-- The portable verifier of 0012 is plpgsql over built-in functions, so it runs on any
-- PostgreSQL, managed ones included. It costs about 90 us per statement (two lookups and two
-- OpenSSL digests, set up again in every transaction), more than the point read it guards.
-- `Extensions/tenantkit_context` makes the same decisions in C, with each key's HMAC states and
-- the memberships and keys it has seen valid cached per backend; triggers on the three tables
-- empty every backend's cache when a change commits.
--
-- tenantkit.use_native_verifier() makes the switch where the extension is installed (`make -C
-- Extensions/tenantkit_context install`): it renames the portable verifier to
-- tenantkit.verified_principal_portable() and creates the extension, whose
-- tenantkit.verified_principal() takes its place. Policies and entry points call it by name, so
-- nothing else changes. It returns false, changing nothing, where the extension is not
-- available or cannot be created (a warning says why). It (re)creates the invalidation triggers
-- each time. This file calls it; after installing the extension on a server migrated earlier,
-- call it once. The extension reads its tables below their privileges, so it is not trusted:
-- a superuser creates it (run this migration, or that call, as one). To keep the portable
-- verifier, migrate with `tenantkit.context_verifier = portable` set (for example
-- PGOPTIONS='-c tenantkit.context_verifier=portable'); tenantkit.use_portable_verifier() goes
-- back from the native one.
CREATE FUNCTION tenantkit.use_native_verifier()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'tenantkit_context') THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'tenantkit_context') THEN
            RETURN false;
        END IF;
        BEGIN
            ALTER FUNCTION tenantkit.verified_principal() RENAME TO verified_principal_portable;
            CREATE EXTENSION tenantkit_context SCHEMA tenantkit;
        EXCEPTION WHEN OTHERS THEN
            -- The rename is undone with the failed block: the portable verifier stays in place.
            RAISE WARNING 'keeping the portable claim verifier: cannot create extension tenantkit_context as %: %', current_user, SQLERRM
                USING HINT = 'Create it as a superuser: SELECT tenantkit.use_native_verifier();';
            RETURN false;
        END;
    END IF;
    -- Per row (a statement that changes nothing flushes nothing), and ALWAYS, so replication
    -- apply and session_replication_role = replica still clear the caches.
    CREATE OR REPLACE TRIGGER context_cache_invalidate AFTER INSERT OR UPDATE OR DELETE ON tenantkit.context_keys
        FOR EACH ROW EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    CREATE OR REPLACE TRIGGER context_cache_invalidate AFTER INSERT OR DELETE ON public.memberships
        FOR EACH ROW EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    -- Only an UPDATE that changes something: `SET role = role` flushes nothing.
    CREATE OR REPLACE TRIGGER context_cache_invalidate_update AFTER UPDATE ON public.memberships
        FOR EACH ROW WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.user_id IS DISTINCT FROM NEW.user_id
                           OR OLD.role IS DISTINCT FROM NEW.role)
        EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    -- Not on every UPDATE: last_used_at changes once a minute per key and decides nothing.
    CREATE OR REPLACE TRIGGER context_cache_invalidate AFTER UPDATE ON public.api_keys
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.org_id IS DISTINCT FROM NEW.org_id
                           OR OLD.key_hash IS DISTINCT FROM NEW.key_hash OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
        EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    CREATE OR REPLACE TRIGGER context_cache_invalidate_delete AFTER DELETE ON public.api_keys
        FOR EACH ROW EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    CREATE OR REPLACE TRIGGER context_cache_invalidate_truncate AFTER TRUNCATE ON tenantkit.context_keys
        FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    CREATE OR REPLACE TRIGGER context_cache_invalidate_truncate AFTER TRUNCATE ON public.memberships
        FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    CREATE OR REPLACE TRIGGER context_cache_invalidate_truncate AFTER TRUNCATE ON public.api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.context_cache_invalidate();
    ALTER TABLE tenantkit.context_keys ENABLE ALWAYS TRIGGER context_cache_invalidate, ENABLE ALWAYS TRIGGER context_cache_invalidate_truncate;
    ALTER TABLE public.memberships ENABLE ALWAYS TRIGGER context_cache_invalidate, ENABLE ALWAYS TRIGGER context_cache_invalidate_update,
        ENABLE ALWAYS TRIGGER context_cache_invalidate_truncate;
    ALTER TABLE public.api_keys ENABLE ALWAYS TRIGGER context_cache_invalidate, ENABLE ALWAYS TRIGGER context_cache_invalidate_delete,
        ENABLE ALWAYS TRIGGER context_cache_invalidate_truncate;
    RETURN true;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.use_native_verifier() FROM PUBLIC;
ALTER FUNCTION tenantkit.use_native_verifier() OWNER TO tenantkit_owner;

-- Back to the portable verifier (a superuser, as the extension's owner): drops the extension
-- with its triggers and puts the plpgsql verifier back under its name.
CREATE FUNCTION tenantkit.use_portable_verifier()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    DROP EXTENSION IF EXISTS tenantkit_context CASCADE;
    IF pg_catalog.to_regprocedure('tenantkit.verified_principal_portable()') IS NOT NULL THEN
        ALTER FUNCTION tenantkit.verified_principal_portable() RENAME TO verified_principal;
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.use_portable_verifier() FROM PUBLIC;
ALTER FUNCTION tenantkit.use_portable_verifier() OWNER TO tenantkit_owner;

SELECT tenantkit.use_native_verifier()
 WHERE pg_catalog.current_setting('tenantkit.context_verifier', true) IS DISTINCT FROM 'portable';

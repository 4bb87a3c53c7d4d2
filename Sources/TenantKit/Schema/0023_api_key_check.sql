SET LOCAL ROLE tenantkit_owner;

-- 0023_api_key_check: a key scope's context statement checks its key and writes nothing; only
-- authenticating (TenantStore.authenticate, a transaction of its own) records the key's use.
--
-- On Citus, tenantkit_use_api_key()'s UPDATE of api_keys (a reference table, written on every
-- node, as the owner) in a request's own transaction made every later statement of it that reads
-- a reference table beside the org's shards fail: "cannot perform query on placements that were
-- modified in this transaction by a different user" (the catalog, once its private items were
-- distributed by 0022). No scoped transaction mixes the owner's writes with the application's now.
CREATE FUNCTION tenantkit_check_api_key()
RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_principal tenantkit.principal := tenantkit.verified_principal();
BEGIN
    IF v_principal.api_key_id IS NULL THEN
        RAISE EXCEPTION 'the API key is not valid' USING ERRCODE = 'TK007';
    END IF;
    RETURN v_principal.api_key_id;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit_check_api_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_check_api_key() TO tenantkit_app;


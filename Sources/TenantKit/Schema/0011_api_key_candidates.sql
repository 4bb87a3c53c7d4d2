SET LOCAL ROLE tenantkit_owner;

-- 0011_api_key_candidates: API key authentication that compares hashes in constant time.
--
-- tenantkit_lookup_api_key (0010) finds a key by an equality lookup on its hash. This entry point
-- instead returns the active keys carrying the presented key's visible prefix, with their hashes;
-- the application hashes the presented key and compares in constant time, then records the use
-- in the key's organization. Like the hash index, the prefix index is a deliberate exception to
-- "indexes lead with org_id": the org is not known yet.
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix) WHERE revoked_at IS NULL;

CREATE FUNCTION tenantkit_api_key_candidates(p_prefix text)
RETURNS TABLE (org_id uuid, api_key_id uuid, key_hash bytea)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET tenantkit.cross_org_read = 'on'
AS $fn$
    SELECT k.org_id, k.id, k.key_hash
      FROM api_keys k
     WHERE k.prefix = p_prefix AND k.revoked_at IS NULL
     LIMIT 8
$fn$;

REVOKE ALL ON FUNCTION tenantkit_api_key_candidates(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_api_key_candidates(text) TO tenantkit_app;

-- tenantkit_context 1.0: the native tenantkit.verified_principal(). Schema/0017 creates this
-- extension where it is available, after renaming the portable verifier out of the way.
\echo Use "CREATE EXTENSION tenantkit_context" (Schema/0017 does it) to load this file. \quit

CREATE FUNCTION tenantkit.verified_principal()
RETURNS tenantkit.principal
LANGUAGE c
STABLE
PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'tenantkit_verified_principal';

-- AFTER trigger for the tables the verifier caches (context keys, memberships, API keys).
CREATE FUNCTION tenantkit.context_cache_invalidate()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'tenantkit_context_cache_invalidate';

REVOKE ALL ON FUNCTION tenantkit.verified_principal() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.context_cache_invalidate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit.verified_principal() TO tenantkit_app, tenantkit_operator, tenantkit_owner;
GRANT EXECUTE ON FUNCTION tenantkit.context_cache_invalidate() TO tenantkit_owner;

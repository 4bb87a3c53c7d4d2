-- 0012_signed_context: an unforgeable tenant context, and a database the application role cannot
-- reshape.
--
-- Before this file the policies trusted `tenantkit.org_id`, a setting any role may set: an SQL
-- injection could claim any organization. From here on they trust only a claim the application
-- signs with a key the application role cannot read. A claim is 220 lowercase hex digits:
--
--     offset  length  field
--          1       1  version (1)
--          2       1  kind: 1 user, 2 API key, 3 platform operator
--          3       8  key id (the first 8 hex digits of the key's SHA-256)
--         11      32  principal: the user's, key's or operator's uuid
--         43      32  organization uuid, zeros for none (pre-tenant calls)
--         75      64  for an API key, the SHA-256 of the presented key; zeros otherwise
--        139       8  backend pid the claim was signed for: it cannot be replayed elsewhere
--        147      10  expiry, Unix seconds (compared with statement_timestamp())
--        157      64  HMAC-SHA256(key, the first 156 digits)
--
-- Fixed widths and one alphabet keep verification cheap (one length and one translate() check
-- make every later cast safe) and make the claim safe to splice into SQL text.
--
-- The application sends it as `SET LOCAL tenantkit.claim = '...'` right after BEGIN, in the same
-- round trip as its statements (Citus forwards SET LOCAL to the workers, never set_config). Every
-- policy calls tenantkit.current_org() (and friends), which return NULL unless the claim verifies,
-- is unexpired, belongs to this backend and its user is still a member of the org (or its key is
-- unrevoked). No valid claim: no rows.
--
-- The HMAC is computed with the built-in sha256() over pads derived once from the key (HMAC's
-- inner and outer pads), so no extension is needed on any node.
--
-- Parts of this file need a superuser (role attributes, database and language privileges); run
-- it as one, as for 0001. It checks each hardening step and fails with a hint where it cannot
-- make it.

DO $harden$
BEGIN
    -- Migrations run as a login role that is a member of tenantkit_owner; the owner itself never
    -- logs in, so a stolen application password cannot become it.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_owner' AND rolcanlogin) THEN
        BEGIN
            ALTER ROLE tenantkit_owner NOLOGIN;
        EXCEPTION
            WHEN internal_error THEN NULL;  -- "tuple concurrently updated": another database did it
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'tenantkit_owner must be NOLOGIN and % cannot change it', current_user
                    USING ERRCODE = 'insufficient_privilege', HINT = 'Run this migration as a superuser once.';
        END;
    END IF;

    -- The platform operator role: the only principal besides the owner that may grant credits.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_operator') THEN
        BEGIN
            CREATE ROLE tenantkit_operator NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;

    -- Application backends do not publish their SQL text in pg_stat_activity: another
    -- application session (an injection) would otherwise read live claims and statements.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s
                   WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_app')
                     AND s.setdatabase = 0 AND 'track_activities=off' = ANY (s.setconfig)) THEN
        BEGIN
            ALTER ROLE tenantkit_app SET track_activities = off;
        EXCEPTION
            WHEN internal_error THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'cannot set track_activities = off for tenantkit_app as %', current_user
                    USING ERRCODE = 'insufficient_privilege', HINT = 'Run this migration as a superuser once.';
        END;
    END IF;

    -- No temporary objects for anyone but the owner: a temp relation or function shadows
    -- unqualified names for the rest of the session.
    IF pg_catalog.has_database_privilege('tenantkit_app', pg_catalog.current_database(), 'TEMPORARY') THEN
        BEGIN
            EXECUTE pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
            EXECUTE pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM tenantkit_app', pg_catalog.current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;  -- reported below
        END;
        IF pg_catalog.has_database_privilege('tenantkit_app', pg_catalog.current_database(), 'TEMPORARY') THEN
            RAISE EXCEPTION 'tenantkit_app may create temporary objects in database %', pg_catalog.current_database()
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Run this migration as a superuser or the database owner.';
        END IF;
    END IF;

    -- No anonymous code blocks (DO) or new functions in plpgsql for the application.
    IF pg_catalog.has_language_privilege('tenantkit_app', 'plpgsql', 'USAGE') THEN
        BEGIN
            REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;
            GRANT USAGE ON LANGUAGE plpgsql TO tenantkit_owner;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'tenantkit_app may use plpgsql and % cannot revoke it', current_user
                USING ERRCODE = 'insufficient_privilege', HINT = 'Run this migration as a superuser once.';
        END;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'tenantkit') THEN
        CREATE SCHEMA tenantkit AUTHORIZATION tenantkit_owner;
    END IF;
END
$harden$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA tenantkit FROM PUBLIC;
GRANT USAGE ON SCHEMA tenantkit TO tenantkit_app, tenantkit_operator;

SET LOCAL ROLE tenantkit_owner;

-- ---------------------------------------------------------------------------------------------
-- Keys. Only the owner reads them; tenantkit_app has no privilege on this table at all.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tenantkit.context_keys (
    key_id     text        NOT NULL,  -- first 8 hex digits of sha256(secret)
    inner_pad  bytea       NOT NULL,
    outer_pad  bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    CONSTRAINT context_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT context_keys_key_id_format CHECK (length(key_id) = 8 AND translate(key_id, '0123456789abcdef', '') = ''),
    CONSTRAINT context_keys_pads_length CHECK (octet_length(inner_pad) = 64 AND octet_length(outer_pad) = 64)
);
REVOKE ALL ON tenantkit.context_keys FROM PUBLIC;

-- tenantkit.install_context_key(secret): stores a signing key (as its HMAC pads) under its id,
-- which it returns. Installing the same key again is a no-op. Executable by the owner's members
-- only (migrations, `tenantkit keys install`).
CREATE FUNCTION tenantkit.install_context_key(p_secret bytea)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_key_id text := left(encode(sha256(p_secret), 'hex'), 8);
    v_key   bytea := p_secret;
    v_inner bytea;
    v_outer bytea;
BEGIN
    IF octet_length(v_key) < 32 THEN
        RAISE EXCEPTION 'a context key needs at least 32 bytes, got %', octet_length(v_key)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(v_key) > 64 THEN
        v_key := sha256(v_key);
    END IF;
    v_key := v_key || decode(repeat('00', 64 - octet_length(v_key)), 'hex');
    v_inner := v_key;
    v_outer := v_key;
    FOR i IN 0..63 LOOP
        v_inner := set_byte(v_inner, i, get_byte(v_key, i) # 54);  -- 0x36
        v_outer := set_byte(v_outer, i, get_byte(v_key, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO tenantkit.context_keys (key_id, inner_pad, outer_pad) VALUES (v_key_id, v_inner, v_outer)
        ON CONFLICT (key_id) DO NOTHING;
    IF NOT EXISTS (SELECT 1 FROM tenantkit.context_keys k
                    WHERE k.key_id = v_key_id AND k.inner_pad = v_inner AND k.outer_pad = v_outer) THEN
        RAISE EXCEPTION 'another key with id % is installed', v_key_id USING ERRCODE = 'unique_violation';
    END IF;
    RETURN v_key_id;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.install_context_key(bytea) FROM PUBLIC;

-- HMAC-SHA256 of `p_message` under key `p_key_id` as lowercase hex, NULL for an unknown or
-- retired key. Internal: the application never calls it.
CREATE FUNCTION tenantkit.mac(p_key_id text, p_message text)
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(p_message, 'UTF8'))), 'hex')
      FROM tenantkit.context_keys k
     WHERE k.key_id = p_key_id AND k.retired_at IS NULL
$fn$;
REVOKE ALL ON FUNCTION tenantkit.mac(text, text) FROM PUBLIC;

-- True when `p_mac` is the MAC of `p_message`. Compares digests of both, so the comparison's
-- timing says nothing about how much of a forged MAC was right.
CREATE FUNCTION tenantkit.mac_matches(p_key_id text, p_message text, p_mac text)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(sha256(convert_to(tenantkit.mac(p_key_id, p_message), 'UTF8'))
                    = sha256(convert_to(p_mac, 'UTF8')), false)
$fn$;
REVOKE ALL ON FUNCTION tenantkit.mac_matches(text, text, text) FROM PUBLIC;

-- The backend a claim must be bound to. On Citus the distribution step replaces this with the
-- originating coordinator backend (citus_backend_gpid()), which workers inherit.
CREATE FUNCTION tenantkit.session_pid()
RETURNS bigint
LANGUAGE sql
STABLE
AS $fn$ SELECT pg_backend_pid()::bigint $fn$;

-- ---------------------------------------------------------------------------------------------
-- The verified principal of the current statement.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE tenantkit.principal AS (
    org_id     uuid,
    user_id    uuid,
    api_key_id uuid,
    role       text
);

CREATE FUNCTION tenantkit.verified_principal()
RETURNS tenantkit.principal
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c        text := current_setting('tenantkit.claim', true);
    v_mac    text;
    v_result tenantkit.principal;
BEGIN
    -- Every cast below succeeds on any string of hex digits. (A plain class with `*`: a counted
    -- repetition such as {220} makes PostgreSQL's regex engine several times slower.)
    IF length(c) IS DISTINCT FROM 220 OR c !~ '^[0-9a-f]*$' THEN
        RETURN NULL;
    END IF;
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(left(c, 156), 'UTF8'))), 'hex')
      INTO v_mac
      FROM tenantkit.context_keys k
     WHERE k.key_id = substr(c, 3, 8) AND k.retired_at IS NULL;
    -- 64-bit keyed hashes are compared first, so the comparison's timing cannot help forge a MAC
    -- digit by digit.
    IF v_mac IS NULL
       OR hashtextextended(v_mac, 7) <> hashtextextended(substr(c, 157), 7) OR v_mac <> substr(c, 157)
       OR ('x' || substr(c, 139, 8))::bit(32)::bigint <> tenantkit.session_pid()
       OR to_timestamp(('x' || lpad(substr(c, 147, 10), 16, '0'))::bit(64)::bigint) <= statement_timestamp() THEN
        RETURN NULL;
    END IF;

    CASE substr(c, 2, 1)
    WHEN '1' THEN
        v_result.user_id := substr(c, 11, 32)::uuid;
        SELECT m.org_id, m.role INTO v_result.org_id, v_result.role
          FROM public.memberships m
         WHERE m.org_id = substr(c, 43, 32)::uuid AND m.user_id = v_result.user_id;
    WHEN '2' THEN
        -- A key claim is only as good as the presented key: its hash must match, unrevoked.
        SELECT a.org_id, a.id, 'member' INTO v_result.org_id, v_result.api_key_id, v_result.role
          FROM public.api_keys a
         WHERE a.org_id = substr(c, 43, 32)::uuid AND a.id = substr(c, 11, 32)::uuid
           AND a.revoked_at IS NULL AND a.key_hash = decode(substr(c, 75, 64), 'hex');
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    WHEN '3' THEN
        -- Operator claims count only on an operator's own login: the application role can never
        -- grant credits, even with the signing key.
        IF NOT pg_has_role(session_user, 'tenantkit_operator', 'MEMBER') THEN
            RETURN NULL;
        END IF;
        v_result.org_id := nullif(substr(c, 43, 32), repeat('0', 32))::uuid;
        v_result.role := 'operator';
    ELSE
        RETURN NULL;
    END CASE;
    RETURN v_result;
END
$fn$;

-- The accessors below are plain SQL so the planner inlines them; they name everything qualified.
-- The organization every policy compares with. NULL without a valid claim naming a current
-- membership (or an unrevoked key).
CREATE FUNCTION tenantkit.current_org() RETURNS uuid
LANGUAGE sql STABLE
AS $fn$ SELECT (tenantkit.verified_principal()).org_id $fn$;

-- The signed-in user (also before an organization is chosen), or NULL.
CREATE FUNCTION tenantkit.current_user_id() RETURNS uuid
LANGUAGE sql STABLE
AS $fn$ SELECT (tenantkit.verified_principal()).user_id $fn$;

-- The API key acting, or NULL.
CREATE FUNCTION tenantkit.current_api_key_id() RETURNS uuid
LANGUAGE sql STABLE
AS $fn$ SELECT (tenantkit.verified_principal()).api_key_id $fn$;

-- The principal's role in current_org(): admin, member or viewer for users, member for API
-- keys, operator for the platform; NULL without an organization.
CREATE FUNCTION tenantkit.current_role() RETURNS text
LANGUAGE sql STABLE
AS $fn$ SELECT (tenantkit.verified_principal()).role $fn$;

-- current_org() when the principal holds one of `p_roles` there, else NULL: what write policies
-- compare with, so a policy verifies the claim once for both the org and the role.
CREATE FUNCTION tenantkit.current_org_for(p_roles text[]) RETURNS uuid
LANGUAGE plpgsql STABLE
AS $fn$
DECLARE
    v_principal tenantkit.principal := tenantkit.verified_principal();
BEGIN
    RETURN CASE WHEN v_principal.role = ANY (p_roles) THEN v_principal.org_id END;
END
$fn$;

-- tenantkit.verify_proof(purpose, subject, proof): true when the application signed `proof` and it
-- has not expired. A proof is 82 hex digits: key id (8), expiry in Unix seconds (10), and the
-- HMAC (64) of `proof.<purpose>.<subject>.<key id><expiry>`. Entry points that change what
-- proves identity (a verified email, a verified domain) take one: an injection can call the
-- entry point but cannot sign.
CREATE FUNCTION tenantkit.verify_proof(p_purpose text, p_subject text, p_proof text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF length(p_proof) IS DISTINCT FROM 82 OR translate(p_proof, '0123456789abcdef', '') <> '' THEN
        RETURN false;
    END IF;
    RETURN to_timestamp(('x' || lpad(substr(p_proof, 9, 10), 16, '0'))::bit(64)::bigint) > statement_timestamp()
       AND tenantkit.mac_matches(substr(p_proof, 1, 8),
                                 'proof.' || p_purpose || '.' || p_subject || '.' || substr(p_proof, 1, 18),
                                 substr(p_proof, 19));
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.verify_proof(text, text, text) FROM PUBLIC;

REVOKE ALL ON FUNCTION tenantkit.session_pid() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.verified_principal() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.current_org() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.current_user_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.current_api_key_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.current_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.current_org_for(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit.session_pid(), tenantkit.verified_principal(), tenantkit.current_org(),
    tenantkit.current_user_id(), tenantkit.current_api_key_id(), tenantkit.current_role(),
    tenantkit.current_org_for(text[])
    TO tenantkit_app, tenantkit_operator;

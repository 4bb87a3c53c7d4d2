SET LOCAL ROLE tenantkit_owner;

-- 0010_entry_points: the pre-tenant entry points, called by tenantkit_app before (or while
-- choosing) an active organization. Each is SECURITY DEFINER (runs as tenantkit_owner) with a
-- pinned search_path, EXECUTE revoked from PUBLIC and granted to tenantkit_app only.
--
-- They read across organizations only through the "<table>_definer_read" policies (0002), enabled by
-- their own SET tenantkit.cross_org_read = 'on', which PostgreSQL undoes when they return. Every
-- write switches tenantkit.org_id to the organization concerned, so the ordinary org_id policies
-- check it, and restores the caller's value afterwards.
--
-- The caller (the application) has authenticated the user: p_user_id is trusted.
--
-- Errors (SQLSTATE):
--   P0002 no_data_found  the user does not exist
--   TK001                unknown invitation token
--   TK002                invitation expired
--   TK003                invitation already accepted or revoked
--   TK004                invitation addressed to another email
--   (TK005 is tenantkit_verify_org_domain's "domain already verified by another organization", TK010
--   the audit log's "append-only".)

-- tenantkit_create_organization(user, name): creates an organization, makes the user its admin
-- and opens its ECU account (balance 0). Returns the new organization's id.
CREATE FUNCTION tenantkit_create_organization(p_user_id uuid, p_name text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_context text := current_setting('tenantkit.org_id', true);
    v_org     uuid := gen_random_uuid();
BEGIN
    PERFORM 1 FROM users u WHERE u.id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_user_id USING ERRCODE = 'no_data_found';
    END IF;

    PERFORM set_config('tenantkit.org_id', v_org::text, true);
    INSERT INTO organizations (id, name) VALUES (v_org, p_name);
    INSERT INTO memberships (org_id, user_id, role) VALUES (v_org, p_user_id, 'admin');
    INSERT INTO ecu_accounts (org_id) VALUES (v_org);
    PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);
    RETURN v_org;
END
$fn$;

-- tenantkit_accept_invitation(user, token): checks the plaintext token against token_hash, expiry,
-- single use and the case-insensitive email match, then creates the membership (a user who is
-- already a member keeps their role) and marks the invitation accepted. Concurrent acceptances of
-- one invitation are serialized by a row lock: exactly one succeeds.
CREATE FUNCTION tenantkit_accept_invitation(p_user_id uuid, p_token text)
RETURNS TABLE (org_id uuid, role text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET tenantkit.cross_org_read = 'on'
AS $fn$
#variable_conflict use_column
DECLARE
    v_context text := current_setting('tenantkit.org_id', true);
    v_hash    bytea := sha256(convert_to(coalesce(p_token, ''), 'UTF8'));
    v_email   text;
    v_org     uuid;
    v_id      uuid;
    v_inv     record;
    v_role    text;
BEGIN
    SELECT u.email INTO v_email FROM users u WHERE u.id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_user_id USING ERRCODE = 'no_data_found';
    END IF;

    SELECT i.org_id, i.id INTO v_org, v_id
      FROM invitations i WHERE i.token_hash = v_hash
     ORDER BY i.created_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invitation token is not valid' USING ERRCODE = 'TK001';
    END IF;

    PERFORM set_config('tenantkit.org_id', v_org::text, true);
    SELECT i.* INTO v_inv FROM invitations i WHERE i.org_id = v_org AND i.id = v_id FOR UPDATE;
    IF v_inv.accepted_at IS NOT NULL OR v_inv.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'invitation has already been used or was revoked' USING ERRCODE = 'TK003';
    END IF;
    IF v_inv.expires_at <= now() THEN
        RAISE EXCEPTION 'invitation expired at %', v_inv.expires_at USING ERRCODE = 'TK002';
    END IF;
    IF lower(v_inv.email) <> lower(v_email) THEN
        RAISE EXCEPTION 'invitation was sent to another email address' USING ERRCODE = 'TK004';
    END IF;

    INSERT INTO memberships AS m (org_id, user_id, role) VALUES (v_org, p_user_id, v_inv.role)
        ON CONFLICT ON CONSTRAINT memberships_pkey DO NOTHING;
    SELECT m.role INTO v_role FROM memberships m WHERE m.org_id = v_org AND m.user_id = p_user_id;
    UPDATE invitations i SET accepted_at = now(), accepted_by = p_user_id WHERE i.org_id = v_org AND i.id = v_id;

    PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);
    org_id := v_org;
    role := v_role;
    RETURN NEXT;
END
$fn$;

-- tenantkit_join_by_email_domain(user): email-domain auto-join, called when a user signs in. If the
-- user's email is verified and its domain is claimed (0004) by an organization whose row for it is
-- verified and enabled, the user joins that organization with the domain's default role. Returns
-- the organizations joined by this call (none when already a member or nothing matches).
CREATE FUNCTION tenantkit_join_by_email_domain(p_user_id uuid)
RETURNS TABLE (org_id uuid, role text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET tenantkit.cross_org_read = 'on'
AS $fn$
#variable_conflict use_column
DECLARE
    v_context  text := current_setting('tenantkit.org_id', true);
    v_email    text;
    v_verified boolean;
    v_domain   text;
    v_org      uuid;
    v_role     text;
BEGIN
    SELECT u.email, u.email_verified INTO v_email, v_verified FROM users u WHERE u.id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_user_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT v_verified THEN
        RETURN;
    END IF;
    v_domain := lower(split_part(v_email, '@', 2));

    SELECT c.org_id INTO v_org FROM email_domain_claims c WHERE c.domain = v_domain;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT d.default_role INTO v_role FROM org_email_domains d
     WHERE d.org_id = v_org AND d.domain = v_domain AND d.enabled AND d.verified_at IS NOT NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    PERFORM set_config('tenantkit.org_id', v_org::text, true);
    INSERT INTO memberships AS m (org_id, user_id, role) VALUES (v_org, p_user_id, v_role)
        ON CONFLICT ON CONSTRAINT memberships_pkey DO NOTHING;
    IF FOUND THEN
        org_id := v_org;
        role := v_role;
        RETURN NEXT;
    END IF;
    PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);
END
$fn$;

-- tenantkit_lookup_api_key(key_hash): authenticates an API key by the sha256 of the presented
-- secret. Returns the key's organization and id (no row for unknown and revoked keys alike) and
-- stamps last_used_at.
CREATE FUNCTION tenantkit_lookup_api_key(p_key_hash bytea)
RETURNS TABLE (org_id uuid, api_key_id uuid, name text, prefix text, created_by uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET tenantkit.cross_org_read = 'on'
AS $fn$
#variable_conflict use_column
DECLARE
    v_context text := current_setting('tenantkit.org_id', true);
    v_key     record;
BEGIN
    SELECT k.org_id, k.id, k.name, k.prefix, k.created_by INTO v_key
      FROM api_keys k WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    PERFORM set_config('tenantkit.org_id', v_key.org_id::text, true);
    UPDATE api_keys k SET last_used_at = now() WHERE k.org_id = v_key.org_id AND k.id = v_key.id;
    PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);

    org_id := v_key.org_id;
    api_key_id := v_key.id;
    name := v_key.name;
    prefix := v_key.prefix;
    created_by := v_key.created_by;
    RETURN NEXT;
END
$fn$;

-- tenantkit_user_organizations(user): the org switcher's list, by organization name.
CREATE FUNCTION tenantkit_user_organizations(p_user_id uuid)
RETURNS TABLE (org_id uuid, name text, role text, joined_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET tenantkit.cross_org_read = 'on'
AS $fn$
    SELECT m.org_id, o.name, m.role, m.created_at
      FROM memberships m JOIN organizations o ON o.id = m.org_id
     WHERE m.user_id = p_user_id
     ORDER BY o.name, m.org_id
$fn$;

REVOKE ALL ON FUNCTION tenantkit_create_organization(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_accept_invitation(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_join_by_email_domain(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_lookup_api_key(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_user_organizations(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_create_organization(uuid, text) TO tenantkit_app;
GRANT EXECUTE ON FUNCTION tenantkit_accept_invitation(uuid, text) TO tenantkit_app;
GRANT EXECUTE ON FUNCTION tenantkit_join_by_email_domain(uuid) TO tenantkit_app;
GRANT EXECUTE ON FUNCTION tenantkit_lookup_api_key(bytea) TO tenantkit_app;
GRANT EXECUTE ON FUNCTION tenantkit_user_organizations(uuid) TO tenantkit_app;

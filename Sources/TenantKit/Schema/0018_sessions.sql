SET LOCAL ROLE tenantkit_owner;

-- 0018_sessions: sessions that outlive a request, a process and an instance.
--
-- A session is a user's working state: who they are and which organization is active. It lives
-- here so that any instance can restore it from the token the client presents, and a switch on one
-- instance reaches the others (NOTIFY tenantkit_sessions). The token is a bearer secret: only its
-- SHA-256 is stored, as for API keys, and the table is the owner's alone. The entry points below
-- are the application's only way in:
--
--   tenantkit_session_open(token_hash, expires_at, proof)  the signed-in user (the claim's), active org = the claim's org
--   tenantkit_session_resume(token_hash)            before sign-in: the session of that token, if unexpired
--   tenantkit_session_switch(session_id)            the claim's user's own session, to the claim's (verified) org
--   tenantkit_session_close(session_id)             the claim's user's own session
--   tenantkit_sweep_sessions()                      deletes expired sessions, returns how many
--
-- An injection can call them all, but it cannot read a token (only hashes are stored, and not
-- readable); it cannot open a session either (opening takes a proof the application signs over
-- the user, the token's hash and the expiry: an injection could otherwise turn a two-minute claim
-- into a 90-day login); it cannot switch or close another user's session (the claim names the
-- user), nor switch into an organization its user is not a member of (the claim would not verify).
-- A user keeps at most 50 sessions: opening another ends the oldest. Every change of a session's
-- organization, and every deletion (close, sweep, a deleted user), is announced by a trigger; the
-- notification carries a digest of the session id, not the id, and the session's version, so
-- instances apply only newer states.

CREATE TABLE tenantkit.sessions (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    token_hash    bytea       NOT NULL,
    user_id       uuid        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    active_org_id uuid        REFERENCES public.organizations (id) ON DELETE SET NULL,
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_token_hash_length CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX sessions_user_id_idx ON tenantkit.sessions (user_id, created_at);
CREATE INDEX sessions_expires_at_idx ON tenantkit.sessions (expires_at);
REVOKE ALL ON tenantkit.sessions FROM PUBLIC;

-- The digest a session's notifications carry (32 hex digits).
CREATE FUNCTION tenantkit.session_digest(p_id uuid) RETURNS text
LANGUAGE sql IMMUTABLE
AS $fn$ SELECT pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_id::text, 'UTF8')), 'hex'), 32) $fn$;

-- Announces a changed or deleted session: `<digest>` (32 hex digits).
CREATE FUNCTION tenantkit.announce_session() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM pg_catalog.pg_notify('tenantkit_sessions', tenantkit.session_digest(OLD.id));
    RETURN NULL;
END
$fn$;
CREATE TRIGGER sessions_announce_change AFTER UPDATE ON tenantkit.sessions
    FOR EACH ROW WHEN (OLD.active_org_id IS DISTINCT FROM NEW.active_org_id OR OLD.version <> NEW.version)
    EXECUTE FUNCTION tenantkit.announce_session();
CREATE TRIGGER sessions_announce_delete AFTER DELETE ON tenantkit.sessions
    FOR EACH ROW EXECUTE FUNCTION tenantkit.announce_session();

CREATE FUNCTION tenantkit_session_open(p_token_hash bytea, p_expires_at bigint, p_proof text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_user    uuid := tenantkit.require_user();
    v_expires timestamptz;
    v_id      uuid;
BEGIN
    IF p_expires_at IS NULL OR p_token_hash IS NULL OR NOT tenantkit.verify_proof(
           'session', v_user::text || ':' || encode(p_token_hash, 'hex') || ':' || p_expires_at::text, p_proof) THEN
        RAISE EXCEPTION 'opening a session needs the application''s proof' USING ERRCODE = 'insufficient_privilege';
    END IF;
    v_expires := to_timestamp(p_expires_at);
    IF v_expires <= now() OR v_expires > now() + interval '91 days' THEN
        RAISE EXCEPTION 'a session expires within 90 days from now' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One opening at a time per user (a row lock), so the cap holds under concurrency.
    PERFORM 1 FROM public.users u WHERE u.id = v_user FOR UPDATE;
    DELETE FROM tenantkit.sessions s
     WHERE s.id IN (SELECT o.id FROM tenantkit.sessions o WHERE o.user_id = v_user ORDER BY o.created_at DESC, o.id OFFSET 49);
    INSERT INTO tenantkit.sessions (token_hash, user_id, active_org_id, expires_at)
    VALUES (p_token_hash, v_user, tenantkit.current_org(), v_expires)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$fn$;

-- The active organization is returned only while the user is still a member of it.
CREATE FUNCTION tenantkit_session_resume(p_token_hash bytea)
RETURNS TABLE (id uuid, user_id uuid, active_org_id uuid, version bigint, expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    -- Seen at most once a minute per session: a busy session writes no row per request.
    UPDATE tenantkit.sessions s SET last_seen_at = now()
     WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND s.last_seen_at < now() - interval '1 minute';
    RETURN QUERY
    SELECT s.id, s.user_id,
           CASE WHEN EXISTS (SELECT 1 FROM public.memberships m WHERE m.org_id = s.active_org_id AND m.user_id = s.user_id)
                THEN s.active_org_id END,
           s.version, s.expires_at
      FROM tenantkit.sessions s
     WHERE s.token_hash = p_token_hash AND s.expires_at > now();
END
$fn$;

-- Returns the session's new version.
CREATE FUNCTION tenantkit_session_switch(p_session_id uuid)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_user    uuid := tenantkit.require_user();
    v_org     uuid := tenantkit.current_org();
    v_version bigint;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'switching a session needs a claim for a member of the organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE tenantkit.sessions s SET active_org_id = v_org, version = s.version + 1, last_seen_at = now()
     WHERE s.id = p_session_id AND s.user_id = v_user AND s.expires_at > now()
    RETURNING s.version INTO v_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such session' USING ERRCODE = 'TK008';
    END IF;
    RETURN v_version;
END
$fn$;

CREATE FUNCTION tenantkit_session_close(p_session_id uuid)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    DELETE FROM tenantkit.sessions s WHERE s.id = p_session_id AND s.user_id = tenantkit.require_user()
$fn$;

CREATE FUNCTION tenantkit_sweep_sessions()
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH gone AS (DELETE FROM tenantkit.sessions s WHERE s.expires_at <= now() RETURNING 1)
    SELECT count(*) FROM gone
$fn$;

REVOKE ALL ON FUNCTION tenantkit.announce_session() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.session_digest(uuid), tenantkit_session_open(bytea, bigint, text),
    tenantkit_session_resume(bytea), tenantkit_session_switch(uuid), tenantkit_session_close(uuid),
    tenantkit_sweep_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit.session_digest(uuid), tenantkit_session_open(bytea, bigint, text),
    tenantkit_session_resume(bytea), tenantkit_session_switch(uuid), tenantkit_session_close(uuid),
    tenantkit_sweep_sessions() TO tenantkit_app;

SET LOCAL ROLE tenantkit_owner;

-- 0009_audit_log: append-only, hash-chained audit log, one chain per org.
--
-- Append-only for every role, the owner included: tenantkit_app only has SELECT, INSERT, and
-- triggers reject UPDATE / DELETE (row and statement level) and TRUNCATE (statement level) with
-- SQLSTATE TK010. (A superuser, or the owner disabling the triggers, can still rewrite history;
-- tenantkit_audit_verify() and an externally kept copy of the latest hash detect that.)
-- Because rows can never be deleted, an organization with audit rows cannot be deleted either.
--
-- Appends: a BEFORE INSERT trigger (SECURITY DEFINER, so the application needs no privileges on
-- audit_chain_heads) assigns, ignoring any values supplied for these columns:
--   seq         = previous seq + 1 (1 for the org's first row; no gaps: a rolled-back append
--                 rolls back its chain-head update too)
--   occurred_at = clock_timestamp() taken after the chain lock, so it never decreases along seq
--   prev_hash   = hash of row seq - 1, or 32 zero bytes for seq 1
--   hash        = tenantkit_audit_row_hash(prev_hash, org_id, seq, occurred_at, actor_user_id,
--                                          actor_api_key_id, action, target, details)
-- Appends of one org are serialized by a row lock on that org's audit_chain_heads row
-- (SELECT ... FOR UPDATE), held until commit, so concurrent appends can never fork the chain.
-- Under REPEATABLE READ / SERIALIZABLE a concurrent append fails with 40001 (retry).
-- actor_user_id / actor_api_key_id default to tenantkit.user_id / tenantkit.api_key_id.
--
-- Canonical row encoding (version 1), for verifiers outside the database:
--   hash  = sha256(prev_hash || canonical)            -- || is byte concatenation
--   canonical = F("tenantkit.audit.v1") || F(org_id) || F(seq) || F(occurred_at) ||
--               F(actor_user_id) || F(actor_api_key_id) || F(action) || F(target) || F(details)
--   F(NULL)  = the single byte "-" (0x2D)
--   F(value) = ASCII decimal byte length of U || ":" || U, where U is the UTF-8 encoding of the
--              value's text form below (e.g. F("ab") = "2:ab", F("") = "0:")
--   text forms: uuid        -> lowercase hyphenated, 36 chars ("0b0e...-....")
--               seq         -> decimal, no sign or padding ("1", "42")
--               occurred_at -> microseconds since 1970-01-01 00:00:00 UTC as a decimal integer
--                              (negative for earlier instants), e.g. "1732512000123456"
--               action, target -> the text as stored
--               details     -> PostgreSQL's jsonb text output, exactly the bytes of details::text
--                              (also the payload after the version byte 0x01 of jsonb binary
--                              format). Never re-serialize JSON on the client; fetch it as stored.
-- tenantkit_audit_canonical(...) returns the canonical bytes, tenantkit_audit_row_hash(...) the
-- hash, and tenantkit_audit_verify() checks the active org's whole chain in the database.

CREATE TABLE audit_chain_heads (
    org_id    uuid   NOT NULL,
    last_seq  bigint NOT NULL DEFAULT 0,
    last_hash bytea  NOT NULL DEFAULT decode(repeat('00', 32), 'hex'),
    CONSTRAINT audit_chain_heads_pkey PRIMARY KEY (org_id),
    CONSTRAINT audit_chain_heads_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_chain_heads_tenant ON audit_chain_heads
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE TABLE audit_log (
    org_id           uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    seq              bigint      NOT NULL,
    occurred_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id    uuid        DEFAULT nullif(current_setting('tenantkit.user_id', true), '')::uuid,
    actor_api_key_id uuid        DEFAULT nullif(current_setting('tenantkit.api_key_id', true), '')::uuid,
    action           text        NOT NULL,
    target           text,
    details          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    prev_hash        bytea       NOT NULL,
    hash             bytea       NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (org_id, seq),
    CONSTRAINT audit_log_seq_check CHECK (seq >= 1),
    CONSTRAINT audit_log_action_check CHECK (btrim(action) <> '' AND char_length(action) <= 200),
    CONSTRAINT audit_log_prev_hash_sha256 CHECK (octet_length(prev_hash) = 32),
    CONSTRAINT audit_log_hash_sha256 CHECK (octet_length(hash) = 32),
    -- No ON DELETE action: audit rows outlive nothing and are never deleted. Actor columns have
    -- no FKs on purpose (a deleted user or key must not rewrite or block the log).
    CONSTRAINT audit_log_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id)
);
CREATE INDEX audit_log_org_occurred_idx ON audit_log (org_id, occurred_at);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_log_tenant ON audit_log
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

-- Canonical bytes of one audit row (see the encoding above).
CREATE FUNCTION tenantkit_audit_canonical(
    p_org_id uuid, p_seq bigint, p_occurred_at timestamptz, p_actor_user_id uuid,
    p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, public
AS $fn$
    SELECT string_agg(
               CASE WHEN f.v IS NULL THEN '\x2d'::bytea
                    ELSE convert_to(octet_length(convert_to(f.v, 'UTF8'))::text || ':', 'UTF8')
                         || convert_to(f.v, 'UTF8')
               END,
               ''::bytea ORDER BY f.n)
    FROM (VALUES
        (1, 'tenantkit.audit.v1'),
        (2, p_org_id::text),
        (3, p_seq::text),
        (4, ((extract(epoch FROM p_occurred_at) * 1000000)::numeric(30, 0))::text),
        (5, p_actor_user_id::text),
        (6, p_actor_api_key_id::text),
        (7, p_action),
        (8, p_target),
        (9, p_details::text)
    ) AS f(n, v)
$fn$;

CREATE FUNCTION tenantkit_audit_row_hash(
    p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamptz,
    p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, public
AS $fn$
    SELECT sha256(p_prev_hash || tenantkit_audit_canonical(
        p_org_id, p_seq, p_occurred_at, p_actor_user_id, p_actor_api_key_id,
        p_action, p_target, p_details))
$fn$;

CREATE FUNCTION tenantkit_audit_log_before_insert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_context text := current_setting('tenantkit.org_id', true);
    v_seq     bigint;
    v_prev    bytea;
BEGIN
    IF NEW.org_id IS NULL THEN
        RAISE EXCEPTION 'null value in column "org_id" of relation "audit_log"'
            USING ERRCODE = 'not_null_violation', COLUMN = 'org_id', TABLE = 'audit_log';
    END IF;
    IF coalesce(v_context, '') <> '' AND v_context::uuid IS DISTINCT FROM NEW.org_id THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "audit_log"'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('tenantkit.org_id', NEW.org_id::text, true);

    INSERT INTO audit_chain_heads (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT h.last_seq, h.last_hash INTO STRICT v_seq, v_prev
      FROM audit_chain_heads h WHERE h.org_id = NEW.org_id
       FOR UPDATE;

    NEW.seq         := v_seq + 1;
    NEW.prev_hash   := v_prev;
    NEW.occurred_at := clock_timestamp();
    NEW.details     := coalesce(NEW.details, '{}'::jsonb);
    NEW.hash        := tenantkit_audit_row_hash(
                           NEW.prev_hash, NEW.org_id, NEW.seq, NEW.occurred_at, NEW.actor_user_id,
                           NEW.actor_api_key_id, NEW.action, NEW.target, NEW.details);

    UPDATE audit_chain_heads
       SET last_seq = NEW.seq, last_hash = NEW.hash
     WHERE org_id = NEW.org_id;

    PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);
    RETURN NEW;
END
$fn$;

CREATE FUNCTION tenantkit_audit_log_reject_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'TK010', TABLE = 'audit_log';
END
$fn$;

CREATE TRIGGER audit_log_append
    BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tenantkit_audit_log_before_insert();

CREATE TRIGGER audit_log_append_only_row
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tenantkit_audit_log_reject_change();

-- Statement level: also rejects UPDATE/DELETE that match no row, and TRUNCATE.
CREATE TRIGGER audit_log_append_only_statement
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION tenantkit_audit_log_reject_change();

-- tenantkit_audit_verify(): checks the active org's chain (tenantkit.org_id must be set).
-- Returns NULL when the chain is intact, otherwise the first broken seq: the first missing seq
-- (gap, or rows missing at the tail according to the chain head), or the first row whose
-- prev_hash or hash does not match the recomputation.
CREATE FUNCTION tenantkit_audit_verify()
RETURNS bigint
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_org       uuid := nullif(current_setting('tenantkit.org_id', true), '')::uuid;
    v_expected  bigint := 1;
    v_prev      bytea := decode(repeat('00', 32), 'hex');
    v_head_seq  bigint;
    v_head_hash bytea;
    r           record;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'tenantkit.org_id is not set' USING ERRCODE = 'insufficient_privilege';
    END IF;

    FOR r IN
        SELECT a.* FROM audit_log a WHERE a.org_id = v_org ORDER BY a.seq
    LOOP
        IF r.seq <> v_expected
           OR r.prev_hash <> v_prev
           OR r.hash <> tenantkit_audit_row_hash(v_prev, r.org_id, r.seq, r.occurred_at,
                                                 r.actor_user_id, r.actor_api_key_id,
                                                 r.action, r.target, r.details) THEN
            RETURN v_expected;
        END IF;
        v_prev := r.hash;
        v_expected := v_expected + 1;
    END LOOP;

    SELECT h.last_seq, h.last_hash INTO v_head_seq, v_head_hash
      FROM audit_chain_heads h WHERE h.org_id = v_org;
    IF FOUND AND (v_head_seq <> v_expected - 1 OR v_head_hash <> v_prev) THEN
        RETURN least(v_head_seq + 1, v_expected);
    END IF;
    RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION tenantkit_audit_canonical(uuid, bigint, timestamptz, uuid, uuid, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_audit_row_hash(bytea, uuid, bigint, timestamptz, uuid, uuid, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_audit_log_before_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_audit_log_reject_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_audit_verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_audit_canonical(uuid, bigint, timestamptz, uuid, uuid, text, text, jsonb) TO tenantkit_app;
GRANT EXECUTE ON FUNCTION tenantkit_audit_row_hash(bytea, uuid, bigint, timestamptz, uuid, uuid, text, text, jsonb) TO tenantkit_app;
GRANT EXECUTE ON FUNCTION tenantkit_audit_verify() TO tenantkit_app;

-- Append and read only. (INSERT ... ON CONFLICT DO UPDATE needs UPDATE, so it is refused too.)
GRANT SELECT, INSERT ON audit_log TO tenantkit_app;

SET LOCAL ROLE tenantkit_owner;

-- 0015_keyed_audit_chain: the audit chain is keyed with a secret the application cannot read, and
-- an organization can take signed checkpoints of its chain to keep outside the database and
-- verify the chain against later.
--
-- What holds, and against whom:
--   * tenantkit_app (an SQL injection included) can only append, through the triggers, with the
--     actor of the verified claim (tenantkit.require_context_org() overwrites actor_user_id and
--     actor_api_key_id; 0014). It cannot read the audit key (tenantkit.audit_keys), the chain
--     heads, or call the internal functions below, so it can neither compute a row hash nor sign
--     a checkpoint.
--   * tenantkit_owner (and a superuser): PostgreSQL lets a table's owner disable or drop its
--     triggers (ALTER TABLE ... DISABLE TRIGGER), and a superuser can skip them altogether
--     (session_replication_role = replica). The row and statement triggers of 0009 stay and stop
--     every UPDATE, DELETE and TRUNCATE made through the normal path, the owner's included, but
--     they cannot stop the owner from switching them off first. The owner can also read the audit
--     key, so it can rewrite rows and recompute every later hash with the keyed formula, and fix
--     audit_chain_heads: tenantkit_audit_verify() alone then reports the rewritten chain intact.
--     Against the owner the guarantee is detection: a checkpoint (org, seq, head, signature) kept
--     outside the database commits to the chain as it was, and any rewrite of an entry up to its
--     seq, or any deleted tail, changes or removes the head at that seq, which
--     tenantkit_audit_verify_checkpoint() reports. (Only an event trigger owned by a superuser
--     could refuse the owner that DDL; none is installed here, as it would equally refuse every
--     later migration run by the owner's members and Citus' distribution steps.)
--     What a checkpoint cannot do: show entries appended after it, or tell which of the entries
--     up to it changed when the rewrite was re-chained with the key (the status then names the
--     checkpoint's seq: the chain up to it differs). Keep checkpoints often and keep them where
--     the database's owner cannot write.
--
-- The audit key: 32 random bytes, made by this migration in the database from gen_random_uuid()
-- (pg_strong_random) output (the SHA-256 of four random UUIDs), since the database signs appends
-- and checkpoints on its own. It is stored as its HMAC pads, like the context keys of 0012, in
-- tenantkit.audit_keys, readable by the owner only; it never leaves the database and never
-- appears in SQL text. One key per database; triggers refuse UPDATE, DELETE and TRUNCATE on the
-- table (replacing the key would make every keyed entry fail verification). A database cloned
-- with CREATE DATABASE ... TEMPLATE shares its template's key.
--
-- Chain versions (new column audit_log.chain_version). Nothing is re-chained: every entry written
-- before this migration keeps chain_version = 1 and verifies as before; every entry appended from
-- now on has chain_version = 2 (the trigger sets it, whatever was supplied). The link stays
-- prev_hash = hash of entry seq - 1, across the version change too. Along one org's chain the
-- version never decreases; a v1 entry after a v2 entry is a break.
--   v1 (0009): hash = sha256(prev_hash || canonical_v1)
--   v2:        hash = HMAC-SHA256(audit key, prev_hash || canonical_v2)
--              canonical_v2 = canonical_v1 with the tag field F("tenantkit.audit.v2") in place of
--              F("tenantkit.audit.v1"); every other field, F() and the text forms as in 0009:
--              F("tenantkit.audit.v2") || F(org_id) || F(seq) || F(occurred_at) ||
--              F(actor_user_id) || F(actor_api_key_id) || F(action) || F(target) || F(details)
--   HMAC-SHA256(K, m) = sha256((K' xor opad) || sha256((K' xor ipad) || m)), K' = K padded with
--   zero bytes to 64, ipad = 64 x 0x36, opad = 64 x 0x5c (RFC 2104), with the built-in sha256().
-- An external verifier needs the key for v2 entries; without it, it can still check the links
-- (prev_hash) and that the entry at a checkpoint's seq has the checkpoint's head.
--
-- Checkpoints: tenantkit_audit_checkpoint() returns the verified org's (org_id, seq, head,
-- signature): seq and head are the chain head (seq 0 and 32 zero bytes for an empty chain), and
--   signature = HMAC-SHA256(audit key, F("tenantkit.audit.checkpoint.v1") || F(org_id) || F(seq)
--                                      || F(lowercase hex of head))
-- (F and the text forms as above). tenantkit_audit_verify_checkpoint(org_id, seq, head,
-- signature) checks the verified org's whole chain against one and returns (status, seq,
-- entries), the first finding in this order:
--   invalid_checkpoint  the signature does not verify with this database's key (the checkpoint was
--                       altered, or made by another database); seq, entries NULL
--   rewritten           an entry at or before the checkpoint's seq is missing, out of place or does
--                       not verify (seq = the first such entry), or the chain verifies but its head
--                       at the checkpoint's seq is not the checkpoint's (seq = the checkpoint's seq)
--   truncated           the chain verifies but ends before the checkpoint's seq (seq = the
--                       checkpoint's seq, entries = the entries found)
--   broken              an entry after the checkpoint does not verify, or audit_chain_heads does not
--                       match the last entry (seq = the first broken seq, as tenantkit_audit_verify())
--   intact              (entries = the chain's length)
-- A checkpoint of another organization is refused with SQLSTATE 42501. tenantkit_audit_verify()
-- keeps its result (NULL when intact, else the first broken seq) and now checks v2 entries too.
--
-- Errors (SQLSTATE): 42501 no verified organization, or a checkpoint of another one; TK010
-- audit_log or the audit key is append-only / fixed; TK011 no audit key installed, or the chain
-- head does not match the last entry when taking a checkpoint (run tenantkit_audit_verify()).

-- ---------------------------------------------------------------------------------------------
-- The audit key: owner only.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tenantkit.audit_keys (
    id         smallint    NOT NULL DEFAULT 1,
    inner_pad  bytea       NOT NULL,
    outer_pad  bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_keys_pkey PRIMARY KEY (id),
    CONSTRAINT audit_keys_one_key CHECK (id = 1),
    CONSTRAINT audit_keys_pads_length CHECK (octet_length(inner_pad) = 64 AND octet_length(outer_pad) = 64)
);
REVOKE ALL ON tenantkit.audit_keys FROM PUBLIC;

DO $key$
DECLARE
    v_key   bytea := sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                            || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
    v_inner bytea;
    v_outer bytea;
BEGIN
    v_key := v_key || decode(repeat('00', 32), 'hex');  -- 32 bytes, padded to the block size
    v_inner := v_key;
    v_outer := v_key;
    FOR i IN 0..63 LOOP
        v_inner := set_byte(v_inner, i, get_byte(v_key, i) # 54);  -- 0x36
        v_outer := set_byte(v_outer, i, get_byte(v_key, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO tenantkit.audit_keys (id, inner_pad, outer_pad) VALUES (1, v_inner, v_outer);
END
$key$;

CREATE FUNCTION tenantkit.audit_key_reject_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'the audit key cannot be changed: % is not allowed', TG_OP
        USING ERRCODE = 'TK010', TABLE = 'audit_keys';
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.audit_key_reject_change() FROM PUBLIC;

CREATE TRIGGER audit_keys_fixed_row
    BEFORE UPDATE OR DELETE ON tenantkit.audit_keys
    FOR EACH ROW EXECUTE FUNCTION tenantkit.audit_key_reject_change();
CREATE TRIGGER audit_keys_fixed_statement
    BEFORE UPDATE OR DELETE OR TRUNCATE ON tenantkit.audit_keys
    FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.audit_key_reject_change();

-- ---------------------------------------------------------------------------------------------
-- Encoding and MAC helpers (internal: owner only; the definer functions below call them).
-- Plain SQL without a SET clause, so the planner inlines them (a SET clause costs a GUC save and
-- restore per call, nine times per entry); every function they name is schema-qualified, and their
-- callers all pin search_path = pg_catalog, pg_temp.
-- ---------------------------------------------------------------------------------------------

-- F(value) of the canonical encoding: "-" for NULL, else "<byte length>:<UTF-8 bytes>".
CREATE FUNCTION tenantkit.audit_field(p_value text)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $fn$
    SELECT CASE WHEN p_value IS NULL THEN '\x2d'::bytea
                ELSE pg_catalog.convert_to(pg_catalog.octet_length(pg_catalog.convert_to(p_value, 'UTF8'))::text || ':', 'UTF8')
                     || pg_catalog.convert_to(p_value, 'UTF8')
           END
$fn$;

-- canonical_v2 of one entry.
CREATE FUNCTION tenantkit.audit_canonical_v2(
    p_org_id uuid, p_seq bigint, p_occurred_at timestamptz, p_actor_user_id uuid,
    p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $fn$
    SELECT tenantkit.audit_field('tenantkit.audit.v2')
        || tenantkit.audit_field(p_org_id::text)
        || tenantkit.audit_field(p_seq::text)
        || tenantkit.audit_field(((extract(epoch FROM p_occurred_at) * 1000000)::numeric(30, 0))::text)
        || tenantkit.audit_field(p_actor_user_id::text)
        || tenantkit.audit_field(p_actor_api_key_id::text)
        || tenantkit.audit_field(p_action)
        || tenantkit.audit_field(p_target)
        || tenantkit.audit_field(p_details::text)
$fn$;

-- HMAC-SHA256 from a key's pads.
CREATE FUNCTION tenantkit.hmac_sha256(p_inner_pad bytea, p_outer_pad bytea, p_message bytea)
RETURNS bytea
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $fn$
    SELECT pg_catalog.sha256(p_outer_pad || pg_catalog.sha256(p_inner_pad || p_message))
$fn$;

-- The checkpoint's signed message.
CREATE FUNCTION tenantkit.audit_checkpoint_message(p_org_id uuid, p_seq bigint, p_head bytea)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $fn$
    SELECT tenantkit.audit_field('tenantkit.audit.checkpoint.v1')
        || tenantkit.audit_field(p_org_id::text)
        || tenantkit.audit_field(p_seq::text)
        || tenantkit.audit_field(pg_catalog.encode(p_head, 'hex'))
$fn$;

-- The walk of one org's chain, against a checkpoint (p_seq, p_head) or none (NULLs). Returns one
-- row (status, seq, entries) as documented above; the signature is checked by the caller.
CREATE FUNCTION tenantkit.audit_chain_check(p_org_id uuid, p_seq bigint, p_head bytea)
RETURNS TABLE (status text, seq bigint, entries bigint)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    v_inner     bytea;
    v_outer     bytea;
    v_expected  bigint := 1;
    v_prev      bytea := decode(repeat('00', 32), 'hex');
    v_version   smallint := 1;
    v_hash      bytea;
    v_failed    bigint;
    v_at_seq    bytea := CASE WHEN p_seq = 0 THEN decode(repeat('00', 32), 'hex') END;
    v_head_seq  bigint;
    v_head_hash bytea;
    r           record;
BEGIN
    SELECT k.inner_pad, k.outer_pad INTO v_inner, v_outer FROM tenantkit.audit_keys k WHERE k.id = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit key is installed' USING ERRCODE = 'TK011';
    END IF;

    FOR r IN
        SELECT a.seq, a.occurred_at, a.actor_user_id, a.actor_api_key_id, a.action, a.target, a.details,
               a.prev_hash, a.hash, a.chain_version
          FROM public.audit_log a WHERE a.org_id = p_org_id ORDER BY a.seq
    LOOP
        v_hash := CASE r.chain_version
            WHEN 1 THEN public.tenantkit_audit_row_hash(v_prev, p_org_id, r.seq, r.occurred_at, r.actor_user_id,
                                                        r.actor_api_key_id, r.action, r.target, r.details)
            WHEN 2 THEN tenantkit.hmac_sha256(v_inner, v_outer, v_prev || tenantkit.audit_canonical_v2(
                            p_org_id, r.seq, r.occurred_at, r.actor_user_id, r.actor_api_key_id,
                            r.action, r.target, r.details))
        END;
        IF r.seq <> v_expected OR r.prev_hash <> v_prev OR r.chain_version < v_version
           OR r.hash IS DISTINCT FROM v_hash THEN
            v_failed := v_expected;
            EXIT;
        END IF;
        IF r.seq = p_seq THEN
            v_at_seq := r.hash;
        END IF;
        v_version := r.chain_version;
        v_prev := r.hash;
        v_expected := v_expected + 1;
    END LOOP;
    -- v_expected - 1 entries verified, from seq 1 on.

    IF p_seq IS NOT NULL THEN
        IF v_failed IS NOT NULL AND v_failed <= p_seq THEN
            RETURN QUERY SELECT 'rewritten'::text, v_failed, v_expected - 1;
            RETURN;
        END IF;
        IF v_expected - 1 < p_seq THEN
            RETURN QUERY SELECT 'truncated'::text, p_seq, v_expected - 1;
            RETURN;
        END IF;
        IF v_at_seq IS DISTINCT FROM p_head THEN
            RETURN QUERY SELECT 'rewritten'::text, p_seq, v_expected - 1;
            RETURN;
        END IF;
    END IF;
    IF v_failed IS NOT NULL THEN
        RETURN QUERY SELECT 'broken'::text, v_failed, v_expected - 1;
        RETURN;
    END IF;
    SELECT h.last_seq, h.last_hash INTO v_head_seq, v_head_hash FROM public.audit_chain_heads h WHERE h.org_id = p_org_id;
    IF FOUND AND (v_head_seq <> v_expected - 1 OR v_head_hash <> v_prev) THEN
        RETURN QUERY SELECT 'broken'::text, least(v_head_seq + 1, v_expected), v_expected - 1;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'intact'::text, NULL::bigint, v_expected - 1;
END
$fn$;

REVOKE ALL ON FUNCTION tenantkit.audit_field(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.audit_canonical_v2(uuid, bigint, timestamptz, uuid, uuid, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.hmac_sha256(bytea, bytea, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.audit_checkpoint_message(uuid, bigint, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit.audit_chain_check(uuid, bigint, bytea) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Appends: chain version 2 from here on.
-- ---------------------------------------------------------------------------------------------
ALTER TABLE public.audit_log ADD COLUMN chain_version smallint NOT NULL DEFAULT 1;  -- the entries so far
ALTER TABLE public.audit_log ALTER COLUMN chain_version SET DEFAULT 2;
ALTER TABLE public.audit_log ADD CONSTRAINT audit_log_chain_version_check CHECK (chain_version IN (1, 2));

CREATE OR REPLACE FUNCTION public.tenantkit_audit_log_before_insert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_seq   bigint;
    v_prev  bytea;
    v_inner bytea;
    v_outer bytea;
BEGIN
    IF NEW.org_id IS NULL THEN
        RAISE EXCEPTION 'null value in column "org_id" of relation "audit_log"'
            USING ERRCODE = 'not_null_violation', COLUMN = 'org_id', TABLE = 'audit_log';
    END IF;
    SELECT k.inner_pad, k.outer_pad INTO v_inner, v_outer FROM tenantkit.audit_keys k WHERE k.id = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit key is installed' USING ERRCODE = 'TK011';
    END IF;
    INSERT INTO public.audit_chain_heads (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT h.last_seq, h.last_hash INTO STRICT v_seq, v_prev
      FROM public.audit_chain_heads h WHERE h.org_id = NEW.org_id FOR UPDATE;

    NEW.seq           := v_seq + 1;
    NEW.prev_hash     := v_prev;
    NEW.occurred_at   := clock_timestamp();
    NEW.details       := coalesce(NEW.details, '{}'::jsonb);
    NEW.chain_version := 2;
    NEW.hash          := tenantkit.hmac_sha256(v_inner, v_outer, NEW.prev_hash || tenantkit.audit_canonical_v2(
                             NEW.org_id, NEW.seq, NEW.occurred_at, NEW.actor_user_id, NEW.actor_api_key_id,
                             NEW.action, NEW.target, NEW.details));
    UPDATE public.audit_chain_heads SET last_seq = NEW.seq, last_hash = NEW.hash WHERE org_id = NEW.org_id;
    RETURN NEW;
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Verification and checkpoints (EXECUTE: tenantkit_app only).
-- ---------------------------------------------------------------------------------------------

-- tenantkit_audit_verify(): the verified org's chain; NULL when intact, else the first broken seq.
CREATE OR REPLACE FUNCTION public.tenantkit_audit_verify()
RETURNS bigint
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_org uuid := tenantkit.current_org();
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'no verified organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN (SELECT c.seq FROM tenantkit.audit_chain_check(v_org, NULL, NULL) c);
END
$fn$;

-- tenantkit_audit_checkpoint(): the verified org's chain head, signed.
CREATE FUNCTION public.tenantkit_audit_checkpoint()
RETURNS TABLE (org_id uuid, seq bigint, head bytea, signature bytea)
LANGUAGE plpgsql
STABLE  -- one snapshot for the head and its entry
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    v_org   uuid := tenantkit.current_org();
    v_seq   bigint;
    v_head  bytea;
    v_entry bytea;
    v_inner bytea;
    v_outer bytea;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'no verified organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT k.inner_pad, k.outer_pad INTO v_inner, v_outer FROM tenantkit.audit_keys k WHERE k.id = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit key is installed' USING ERRCODE = 'TK011';
    END IF;
    SELECT h.last_seq, h.last_hash INTO v_seq, v_head FROM public.audit_chain_heads h WHERE h.org_id = v_org;
    IF NOT FOUND THEN
        v_seq := 0;
        v_head := decode(repeat('00', 32), 'hex');
    END IF;
    IF v_seq > 0 THEN
        SELECT a.hash INTO v_entry FROM public.audit_log a WHERE a.org_id = v_org AND a.seq = v_seq;
        IF v_entry IS DISTINCT FROM v_head THEN
            RAISE EXCEPTION 'the audit chain head does not match its last entry'
                USING ERRCODE = 'TK011', HINT = 'Verify the chain (tenantkit_audit_verify()) against an earlier checkpoint.';
        END IF;
    END IF;
    org_id := v_org;
    seq := v_seq;
    head := v_head;
    signature := tenantkit.hmac_sha256(v_inner, v_outer, tenantkit.audit_checkpoint_message(v_org, v_seq, v_head));
    RETURN NEXT;
END
$fn$;

-- tenantkit_audit_verify_checkpoint(org, seq, head, signature): the verified org's chain against a
-- checkpoint of it; (status, seq, entries) as documented in the header.
CREATE FUNCTION public.tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea)
RETURNS TABLE (status text, seq bigint, entries bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    v_org   uuid := tenantkit.current_org();
    v_inner bytea;
    v_outer bytea;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'no verified organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_org_id IS DISTINCT FROM v_org THEN
        RAISE EXCEPTION 'the checkpoint is of another organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT k.inner_pad, k.outer_pad INTO v_inner, v_outer FROM tenantkit.audit_keys k WHERE k.id = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit key is installed' USING ERRCODE = 'TK011';
    END IF;
    -- Digests of both are compared, so the timing says nothing about a forged signature's prefix.
    IF p_seq IS NULL OR p_seq < 0 OR p_head IS NULL OR octet_length(p_head) <> 32 OR p_signature IS NULL
       OR sha256(tenantkit.hmac_sha256(v_inner, v_outer, tenantkit.audit_checkpoint_message(v_org, p_seq, p_head)))
          <> sha256(p_signature) THEN
        RETURN QUERY SELECT 'invalid_checkpoint'::text, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    RETURN QUERY SELECT c.status, c.seq, c.entries FROM tenantkit.audit_chain_check(v_org, p_seq, p_head) c;
END
$fn$;

REVOKE ALL ON FUNCTION public.tenantkit_audit_checkpoint() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.tenantkit_audit_verify_checkpoint(uuid, bigint, bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.tenantkit_audit_checkpoint(), public.tenantkit_audit_verify_checkpoint(uuid, bigint, bytea, bytea)
    TO tenantkit_app;

-- The current schema: every migration of Sources/TenantKit/Schema applied to an empty database,
-- dumped with pg_dump --schema-only (portable claim verifier). Generated, do not edit; refresh with
--     TENANTKIT_WRITE_STRUCTURE=1 swift test --filter StructureTests
-- Roles and database privileges are cluster or database level: see 0001_roles.sql and 0012.

--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: tenantkit; Type: SCHEMA; Schema: -; Owner: tenantkit_owner
--

CREATE SCHEMA tenantkit;


ALTER SCHEMA tenantkit OWNER TO tenantkit_owner;

--
-- Name: principal; Type: TYPE; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TYPE tenantkit.principal AS (
	org_id uuid,
	user_id uuid,
	api_key_id uuid,
	role text
);


ALTER TYPE tenantkit.principal OWNER TO tenantkit_owner;

--
-- Name: tenantkit_accept_invitation(text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_accept_invitation(p_token text) RETURNS TABLE(org_id uuid, role text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_user  uuid := tenantkit.require_user();
    v_hash  bytea := sha256(convert_to(coalesce(p_token, ''), 'UTF8'));
    v_email text;
    v_inv   record;
    v_role  text;
BEGIN
    SELECT u.email INTO v_email FROM public.users u WHERE u.id = v_user;
    SELECT i.* INTO v_inv FROM public.invitations i WHERE i.token_hash = v_hash FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invitation token is not valid' USING ERRCODE = 'TK001';
    END IF;
    IF v_inv.accepted_at IS NOT NULL OR v_inv.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'invitation has already been used or was revoked' USING ERRCODE = 'TK003';
    END IF;
    IF v_inv.expires_at <= now() THEN
        RAISE EXCEPTION 'invitation expired' USING ERRCODE = 'TK002';
    END IF;
    IF lower(v_inv.email) <> lower(v_email) THEN
        RAISE EXCEPTION 'invitation was sent to another email address' USING ERRCODE = 'TK004';
    END IF;

    INSERT INTO public.memberships AS m (org_id, user_id, role) VALUES (v_inv.org_id, v_user, v_inv.role)
        ON CONFLICT ON CONSTRAINT memberships_pkey DO NOTHING;
    SELECT m.role INTO v_role FROM public.memberships m WHERE m.org_id = v_inv.org_id AND m.user_id = v_user;
    UPDATE public.invitations i SET accepted_at = now(), accepted_by = v_user
     WHERE i.org_id = v_inv.org_id AND i.id = v_inv.id;
    PERFORM tenantkit.append_audit(v_inv.org_id, v_user, 'member.joined', v_user::text,
                                   jsonb_build_object('via', 'invitation', 'role', v_role));
    org_id := v_inv.org_id;
    role := v_role;
    RETURN NEXT;
END
$$;


ALTER FUNCTION public.tenantkit_accept_invitation(p_token text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_canonical(uuid, bigint, timestamp with time zone, uuid, uuid, text, text, jsonb); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_canonical(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_audit_canonical(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_checkpoint(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_checkpoint() RETURNS TABLE(org_id uuid, seq bigint, head bytea, signature bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_audit_checkpoint() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_log_before_insert(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_log_before_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_audit_log_before_insert() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_log_reject_change(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_log_reject_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'TK010', TABLE = 'audit_log';
END
$$;


ALTER FUNCTION public.tenantkit_audit_log_reject_change() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_row_hash(bytea, uuid, bigint, timestamp with time zone, uuid, uuid, text, text, jsonb); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_row_hash(p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT sha256(p_prev_hash || public.tenantkit_audit_canonical(
        p_org_id, p_seq, p_occurred_at, p_actor_user_id, p_actor_api_key_id,
        p_action, p_target, p_details))
$$;


ALTER FUNCTION public.tenantkit_audit_row_hash(p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_verify(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_verify() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_org uuid := tenantkit.current_org();
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'no verified organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN (SELECT c.seq FROM tenantkit.audit_chain_check(v_org, NULL, NULL) c);
END
$$;


ALTER FUNCTION public.tenantkit_audit_verify() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_audit_verify_checkpoint(uuid, bigint, bytea, bytea); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea) RETURNS TABLE(status text, seq bigint, entries bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_authenticate_api_key(text, bytea); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_authenticate_api_key(p_prefix text, p_key_hash bytea) RETURNS TABLE(org_id uuid, api_key_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT k.org_id, k.id FROM public.api_keys k
     WHERE k.prefix = p_prefix AND k.revoked_at IS NULL AND sha256(k.key_hash) = sha256(p_key_hash)
$$;


ALTER FUNCTION public.tenantkit_authenticate_api_key(p_prefix text, p_key_hash bytea) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_catalog_items_keep_ids(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_catalog_items_keep_ids() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'a catalog item keeps its id'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'catalog_items_id_fixed', TABLE = 'catalog_items';
    END IF;
    IF EXISTS (SELECT 1 FROM public.public_catalog_items p WHERE p.id = NEW.id) THEN
        RAISE EXCEPTION 'a catalog item may not take a public item''s id'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'catalog_items_id_unique', TABLE = 'catalog_items';
    END IF;
    RETURN NEW;
END
$$;


ALTER FUNCTION public.tenantkit_catalog_items_keep_ids() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_change_email(text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_change_email(p_email text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    UPDATE public.users SET email = p_email, email_verified = false WHERE id = tenantkit.require_user()
$$;


ALTER FUNCTION public.tenantkit_change_email(p_email text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_check_api_key(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_check_api_key() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_principal tenantkit.principal := tenantkit.verified_principal();
BEGIN
    IF v_principal.api_key_id IS NULL THEN
        RAISE EXCEPTION 'the API key is not valid' USING ERRCODE = 'TK007';
    END IF;
    RETURN v_principal.api_key_id;
END
$$;


ALTER FUNCTION public.tenantkit_check_api_key() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_create_organization(text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_create_organization(p_name text) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT tenantkit.create_organization_for(tenantkit.require_user(), p_name) $$;


ALTER FUNCTION public.tenantkit_create_organization(p_name text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_create_user(text, text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_create_user(p_email text, p_display_name text) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO public.users (email, display_name) VALUES (p_email, p_display_name) RETURNING id
$$;


ALTER FUNCTION public.tenantkit_create_user(p_email text, p_display_name text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_ecu_ledger_before_insert(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_ecu_ledger_before_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_balance bigint;
BEGIN
    IF NEW.org_id IS NULL THEN
        RAISE EXCEPTION 'null value in column "org_id" of relation "ecu_ledger"'
            USING ERRCODE = 'not_null_violation', COLUMN = 'org_id', TABLE = 'ecu_ledger';
    END IF;
    INSERT INTO public.ecu_accounts (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT a.balance INTO STRICT v_balance FROM public.ecu_accounts a WHERE a.org_id = NEW.org_id FOR UPDATE;

    IF EXISTS (SELECT 1 FROM public.ecu_ledger l
                WHERE l.org_id = NEW.org_id AND l.idempotency_key = NEW.idempotency_key) THEN
        RETURN NULL;  -- already posted: idempotent no-op
    END IF;
    IF v_balance + NEW.amount < 0 THEN
        RAISE EXCEPTION 'insufficient ECU balance: balance %, amount % (violates check constraint "ecu_accounts_balance_check")',
                v_balance, NEW.amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ecu_accounts_balance_check', TABLE = 'ecu_accounts';
    END IF;
    UPDATE public.ecu_accounts SET balance = v_balance + NEW.amount, updated_at = now() WHERE org_id = NEW.org_id;
    NEW.balance_after := v_balance + NEW.amount;
    RETURN NEW;
END
$$;


ALTER FUNCTION public.tenantkit_ecu_ledger_before_insert() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_issue_domain_challenge(text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_issue_domain_challenge(p_domain text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_org       uuid := tenantkit.current_org_for('{admin}');
    v_challenge text := 'tenantkit-verify-' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'managing domains needs an admin of the active organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE public.org_email_domains
       SET challenge_hash = sha256(convert_to(v_challenge, 'UTF8')), challenge_expires_at = now() + interval '7 days'
     WHERE org_id = v_org AND domain = p_domain;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'domain % is not registered for the active organization', p_domain USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_challenge;
END
$$;


ALTER FUNCTION public.tenantkit_issue_domain_challenge(p_domain text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_join_by_email_domain(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_join_by_email_domain() RETURNS TABLE(org_id uuid, role text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
DECLARE
    v_user     uuid := tenantkit.require_user();
    v_email    text;
    v_verified boolean;
    v_org      uuid;
    v_role     text;
BEGIN
    SELECT u.email, u.email_verified INTO v_email, v_verified FROM public.users u WHERE u.id = v_user;
    IF NOT coalesce(v_verified, false) THEN
        RETURN;
    END IF;
    SELECT c.org_id, d.default_role INTO v_org, v_role
      FROM public.email_domain_claims c
      JOIN public.org_email_domains d ON d.org_id = c.org_id AND d.domain = c.domain
     WHERE c.domain = split_part(v_email, '@', 2) AND d.enabled AND d.verified_at IS NOT NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO public.memberships AS m (org_id, user_id, role) VALUES (v_org, v_user, v_role)
        ON CONFLICT ON CONSTRAINT memberships_pkey DO NOTHING;
    IF FOUND THEN
        PERFORM tenantkit.append_audit(v_org, v_user, 'member.joined', v_user::text,
                                       jsonb_build_object('via', 'email domain', 'role', v_role));
        org_id := v_org;
        role := v_role;
        RETURN NEXT;
    END IF;
END
$$;


ALTER FUNCTION public.tenantkit_join_by_email_domain() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_runs_name_catalog_item(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_runs_name_catalog_item() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.public_catalog_items p WHERE p.id = NEW.catalog_item_id) THEN
        NEW.public_catalog_item_id := NEW.catalog_item_id;
        NEW.private_catalog_item_id := NULL;
    ELSE
        NEW.public_catalog_item_id := NULL;
        NEW.private_catalog_item_id := NEW.catalog_item_id;
    END IF;
    RETURN NEW;
END
$$;


ALTER FUNCTION public.tenantkit_runs_name_catalog_item() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_runs_require_debit(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_runs_require_debit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NEW.cost > 0 AND NOT EXISTS (
        SELECT 1 FROM public.ecu_ledger l
         WHERE l.org_id = NEW.org_id AND l.run_id = NEW.id AND l.amount = -NEW.cost) THEN
        RAISE EXCEPTION 'a run costing % ECU needs its debit in the same transaction', NEW.cost
            USING ERRCODE = 'check_violation', CONSTRAINT = 'runs_debit_required', TABLE = 'runs';
    END IF;
    RETURN NULL;
END
$$;


ALTER FUNCTION public.tenantkit_runs_require_debit() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_session_close(uuid); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_session_close(p_session_id uuid) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    DELETE FROM tenantkit.sessions s WHERE s.id = p_session_id AND s.user_id = tenantkit.require_user()
$$;


ALTER FUNCTION public.tenantkit_session_close(p_session_id uuid) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_session_open(bytea, bigint, text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_session_open(p_token_hash bytea, p_expires_at bigint, p_proof text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_session_open(p_token_hash bytea, p_expires_at bigint, p_proof text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_session_resume(bytea); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_session_resume(p_token_hash bytea) RETURNS TABLE(id uuid, user_id uuid, active_org_id uuid, version bigint, expires_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_session_resume(p_token_hash bytea) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_session_switch(uuid); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_session_switch(p_session_id uuid) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION public.tenantkit_session_switch(p_session_id uuid) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_sweep_sessions(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_sweep_sessions() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH gone AS (DELETE FROM tenantkit.sessions s WHERE s.expires_at <= now() RETURNING 1)
    SELECT count(*) FROM gone
$$;


ALTER FUNCTION public.tenantkit_sweep_sessions() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_use_api_key(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_use_api_key() RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_principal tenantkit.principal := tenantkit.verified_principal();
BEGIN
    IF v_principal.api_key_id IS NULL THEN
        RAISE EXCEPTION 'the API key is not valid' USING ERRCODE = 'TK007';
    END IF;
    UPDATE public.api_keys SET last_used_at = now()
     WHERE org_id = v_principal.org_id AND id = v_principal.api_key_id
       AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
    RETURN v_principal.api_key_id;
END
$$;


ALTER FUNCTION public.tenantkit_use_api_key() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_user_by_email(text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_user_by_email(p_email text) RETURNS TABLE(id uuid, email text, email_verified boolean, display_name text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u.id, u.email, u.email_verified,
           CASE WHEN u.id = tenantkit.current_user_id()
                  OR EXISTS (SELECT 1 FROM public.memberships m
                              WHERE m.user_id = u.id AND m.org_id = tenantkit.current_org())
                THEN u.display_name END
      FROM public.users u
     WHERE lower(u.email) = lower(p_email)
$$;


ALTER FUNCTION public.tenantkit_user_by_email(p_email text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_user_organizations(); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_user_organizations() RETURNS TABLE(org_id uuid, name text, role text, joined_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT m.org_id, o.name, m.role, m.created_at
      FROM public.memberships m JOIN public.organizations o ON o.id = m.org_id
     WHERE m.user_id = tenantkit.require_user()
     ORDER BY o.name, m.org_id
$$;


ALTER FUNCTION public.tenantkit_user_organizations() OWNER TO tenantkit_owner;

--
-- Name: tenantkit_verify_email(uuid, text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_verify_email(p_user_id uuid, p_proof text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_email text;
BEGIN
    SELECT u.email INTO v_email FROM public.users u WHERE u.id = p_user_id FOR UPDATE;
    IF NOT FOUND OR NOT tenantkit.verify_proof('email', p_user_id::text || ':' || v_email, p_proof) THEN
        RAISE EXCEPTION 'the email verification proof is not valid' USING ERRCODE = 'TK006';
    END IF;
    UPDATE public.users SET email_verified = true WHERE id = p_user_id;
END
$$;


ALTER FUNCTION public.tenantkit_verify_email(p_user_id uuid, p_proof text) OWNER TO tenantkit_owner;

--
-- Name: tenantkit_verify_org_domain(text, text, text); Type: FUNCTION; Schema: public; Owner: tenantkit_owner
--

CREATE FUNCTION public.tenantkit_verify_org_domain(p_domain text, p_challenge text, p_proof text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_org    uuid := tenantkit.current_org_for('{admin}');
    v_user   uuid := tenantkit.current_user_id();
    v_holder uuid;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'managing domains needs an admin of the active organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM public.org_email_domains d
     WHERE d.org_id = v_org AND d.domain = p_domain AND d.challenge_expires_at > now()
       AND d.challenge_hash = sha256(convert_to(coalesce(p_challenge, ''), 'UTF8'))
       FOR UPDATE;
    IF NOT FOUND OR NOT tenantkit.verify_proof('domain', v_org::text || ':' || p_domain || ':' || p_challenge, p_proof) THEN
        RAISE EXCEPTION 'the domain challenge or its proof is not valid' USING ERRCODE = 'TK006';
    END IF;

    -- The claim row's lock serializes verifications of one domain; nothing the application can
    -- lock (it has no privilege on this table) can hold it up.
    INSERT INTO public.email_domain_claims (domain, org_id) VALUES (p_domain, v_org) ON CONFLICT (domain) DO NOTHING;
    SELECT c.org_id INTO v_holder FROM public.email_domain_claims c WHERE c.domain = p_domain FOR UPDATE;
    IF v_holder <> v_org THEN
        IF EXISTS (SELECT 1 FROM public.org_email_domains d
                    WHERE d.org_id = v_holder AND d.domain = p_domain AND d.verified_at IS NOT NULL) THEN
            RAISE EXCEPTION 'domain % is already verified by another organization', p_domain USING ERRCODE = 'TK005';
        END IF;
        UPDATE public.email_domain_claims SET org_id = v_org, claimed_at = now() WHERE domain = p_domain;  -- stale claim
    END IF;
    UPDATE public.org_email_domains SET verified_at = now(), challenge_hash = NULL, challenge_expires_at = NULL
     WHERE org_id = v_org AND domain = p_domain AND verified_at IS NULL;
    PERFORM tenantkit.append_audit(v_org, v_user, 'domain.verified', p_domain, '{}'::jsonb);
END
$$;


ALTER FUNCTION public.tenantkit_verify_org_domain(p_domain text, p_challenge text, p_proof text) OWNER TO tenantkit_owner;

--
-- Name: announce_session(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.announce_session() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('tenantkit_sessions', tenantkit.session_digest(OLD.id));
    RETURN NULL;
END
$$;


ALTER FUNCTION tenantkit.announce_session() OWNER TO tenantkit_owner;

--
-- Name: append_audit(uuid, uuid, text, text, jsonb); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.append_audit(p_org uuid, p_user uuid, p_action text, p_target text, p_details jsonb) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO public.audit_log (org_id, actor_user_id, actor_api_key_id, action, target, details)
    VALUES (p_org, p_user, NULL, p_action, p_target, p_details)
$$;


ALTER FUNCTION tenantkit.append_audit(p_org uuid, p_user uuid, p_action text, p_target text, p_details jsonb) OWNER TO tenantkit_owner;

--
-- Name: audit_canonical_v2(uuid, bigint, timestamp with time zone, uuid, uuid, text, text, jsonb); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.audit_canonical_v2(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT tenantkit.audit_field('tenantkit.audit.v2')
        || tenantkit.audit_field(p_org_id::text)
        || tenantkit.audit_field(p_seq::text)
        || tenantkit.audit_field(((extract(epoch FROM p_occurred_at) * 1000000)::numeric(30, 0))::text)
        || tenantkit.audit_field(p_actor_user_id::text)
        || tenantkit.audit_field(p_actor_api_key_id::text)
        || tenantkit.audit_field(p_action)
        || tenantkit.audit_field(p_target)
        || tenantkit.audit_field(p_details::text)
$$;


ALTER FUNCTION tenantkit.audit_canonical_v2(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) OWNER TO tenantkit_owner;

--
-- Name: audit_chain_check(uuid, bigint, bytea); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.audit_chain_check(p_org_id uuid, p_seq bigint, p_head bytea) RETURNS TABLE(status text, seq bigint, entries bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION tenantkit.audit_chain_check(p_org_id uuid, p_seq bigint, p_head bytea) OWNER TO tenantkit_owner;

--
-- Name: audit_checkpoint_message(uuid, bigint, bytea); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.audit_checkpoint_message(p_org_id uuid, p_seq bigint, p_head bytea) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT tenantkit.audit_field('tenantkit.audit.checkpoint.v1')
        || tenantkit.audit_field(p_org_id::text)
        || tenantkit.audit_field(p_seq::text)
        || tenantkit.audit_field(pg_catalog.encode(p_head, 'hex'))
$$;


ALTER FUNCTION tenantkit.audit_checkpoint_message(p_org_id uuid, p_seq bigint, p_head bytea) OWNER TO tenantkit_owner;

--
-- Name: audit_field(text); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.audit_field(p_value text) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_value IS NULL THEN '\x2d'::bytea
                ELSE pg_catalog.convert_to(pg_catalog.octet_length(pg_catalog.convert_to(p_value, 'UTF8'))::text || ':', 'UTF8')
                     || pg_catalog.convert_to(p_value, 'UTF8')
           END
$$;


ALTER FUNCTION tenantkit.audit_field(p_value text) OWNER TO tenantkit_owner;

--
-- Name: audit_key_reject_change(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.audit_key_reject_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'the audit key cannot be changed: % is not allowed', TG_OP
        USING ERRCODE = 'TK010', TABLE = 'audit_keys';
END
$$;


ALTER FUNCTION tenantkit.audit_key_reject_change() OWNER TO tenantkit_owner;

--
-- Name: create_organization_for(uuid, text); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.create_organization_for(p_user_id uuid, p_name text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_org uuid := gen_random_uuid();
BEGIN
    PERFORM 1 FROM public.users u WHERE u.id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_user_id USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO public.organizations (id, name) VALUES (v_org, p_name);
    INSERT INTO public.memberships (org_id, user_id, role) VALUES (v_org, p_user_id, 'admin');
    INSERT INTO public.ecu_accounts (org_id) VALUES (v_org);
    PERFORM tenantkit.append_audit(v_org, p_user_id, 'organization.created', NULL, jsonb_build_object('name', p_name));
    RETURN v_org;
END
$$;


ALTER FUNCTION tenantkit.create_organization_for(p_user_id uuid, p_name text) OWNER TO tenantkit_owner;

--
-- Name: current_api_key_id(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.current_api_key_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT (tenantkit.verified_principal()).api_key_id $$;


ALTER FUNCTION tenantkit.current_api_key_id() OWNER TO tenantkit_owner;

--
-- Name: current_org(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.current_org() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT (tenantkit.verified_principal()).org_id $$;


ALTER FUNCTION tenantkit.current_org() OWNER TO tenantkit_owner;

--
-- Name: current_org_for(text[]); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.current_org_for(p_roles text[]) RETURNS uuid
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_principal tenantkit.principal := tenantkit.verified_principal();
BEGIN
    RETURN CASE WHEN v_principal.role = ANY (p_roles) THEN v_principal.org_id END;
END
$$;


ALTER FUNCTION tenantkit.current_org_for(p_roles text[]) OWNER TO tenantkit_owner;

--
-- Name: current_role(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit."current_role"() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT (tenantkit.verified_principal()).role $$;


ALTER FUNCTION tenantkit."current_role"() OWNER TO tenantkit_owner;

--
-- Name: current_user_id(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT (tenantkit.verified_principal()).user_id $$;


ALTER FUNCTION tenantkit.current_user_id() OWNER TO tenantkit_owner;

--
-- Name: hmac_sha256(bytea, bytea, bytea); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.hmac_sha256(p_inner_pad bytea, p_outer_pad bytea, p_message bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT pg_catalog.sha256(p_outer_pad || pg_catalog.sha256(p_inner_pad || p_message))
$$;


ALTER FUNCTION tenantkit.hmac_sha256(p_inner_pad bytea, p_outer_pad bytea, p_message bytea) OWNER TO tenantkit_owner;

--
-- Name: install_context_key(bytea); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.install_context_key(p_secret bytea) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION tenantkit.install_context_key(p_secret bytea) OWNER TO tenantkit_owner;

--
-- Name: mac(text, text); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.mac(p_key_id text, p_message text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(p_message, 'UTF8'))), 'hex')
      FROM tenantkit.context_keys k
     WHERE k.key_id = p_key_id AND k.retired_at IS NULL
$$;


ALTER FUNCTION tenantkit.mac(p_key_id text, p_message text) OWNER TO tenantkit_owner;

--
-- Name: mac_matches(text, text, text); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.mac_matches(p_key_id text, p_message text, p_mac text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(sha256(convert_to(tenantkit.mac(p_key_id, p_message), 'UTF8'))
                    = sha256(convert_to(p_mac, 'UTF8')), false)
$$;


ALTER FUNCTION tenantkit.mac_matches(p_key_id text, p_message text, p_mac text) OWNER TO tenantkit_owner;

--
-- Name: require_context_org(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.require_context_org() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_principal tenantkit.principal;
    v_table     text := coalesce(TG_ARGV[0], TG_TABLE_NAME);
BEGIN
    IF pg_has_role(current_user, 'tenantkit_owner', 'USAGE') THEN
        RETURN NEW;
    END IF;
    v_principal := tenantkit.verified_principal();
    IF NEW.org_id IS DISTINCT FROM v_principal.org_id THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "%"', v_table
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_table = 'audit_log' THEN
        NEW.actor_user_id := v_principal.user_id;
        NEW.actor_api_key_id := v_principal.api_key_id;
    END IF;
    RETURN NEW;
END
$$;


ALTER FUNCTION tenantkit.require_context_org() OWNER TO tenantkit_owner;

--
-- Name: require_user(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.require_user() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user uuid := tenantkit.current_user_id();
BEGIN
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'this call needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_user;
END
$$;


ALTER FUNCTION tenantkit.require_user() OWNER TO tenantkit_owner;

--
-- Name: session_digest(uuid); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.session_digest(p_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_id::text, 'UTF8')), 'hex'), 32) $$;


ALTER FUNCTION tenantkit.session_digest(p_id uuid) OWNER TO tenantkit_owner;

--
-- Name: session_pid(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.session_pid() RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT pg_backend_pid()::bigint $$;


ALTER FUNCTION tenantkit.session_pid() OWNER TO tenantkit_owner;

--
-- Name: stamp_actor(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.stamp_actor() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_principal tenantkit.principal;
BEGIN
    IF pg_has_role(current_user, 'tenantkit_owner', 'USAGE') THEN
        RETURN NEW;
    END IF;
    v_principal := tenantkit.verified_principal();
    CASE coalesce(TG_ARGV[0], TG_TABLE_NAME)
    WHEN 'runs' THEN
        NEW.user_id := v_principal.user_id;
        NEW.api_key_id := v_principal.api_key_id;
    WHEN 'api_keys' THEN
        NEW.created_by := v_principal.user_id;
    WHEN 'invitations' THEN
        NEW.invited_by := v_principal.user_id;
        NEW.accepted_at := NULL;
        NEW.accepted_by := NULL;
    END CASE;
    RETURN NEW;
END
$$;


ALTER FUNCTION tenantkit.stamp_actor() OWNER TO tenantkit_owner;

--
-- Name: use_native_verifier(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.use_native_verifier() RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION tenantkit.use_native_verifier() OWNER TO tenantkit_owner;

--
-- Name: use_portable_verifier(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.use_portable_verifier() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DROP EXTENSION IF EXISTS tenantkit_context CASCADE;
    IF pg_catalog.to_regprocedure('tenantkit.verified_principal_portable()') IS NOT NULL THEN
        ALTER FUNCTION tenantkit.verified_principal_portable() RENAME TO verified_principal;
    END IF;
END
$$;


ALTER FUNCTION tenantkit.use_portable_verifier() OWNER TO tenantkit_owner;

--
-- Name: user_shares_current_org(uuid); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.user_shares_current_org(p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT 1 FROM public.memberships m
                    WHERE m.org_id = tenantkit.current_org() AND m.user_id = p_user)
$$;


ALTER FUNCTION tenantkit.user_shares_current_org(p_user uuid) OWNER TO tenantkit_owner;

--
-- Name: verified_principal(); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.verified_principal() RETURNS tenantkit.principal
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
$_$;


ALTER FUNCTION tenantkit.verified_principal() OWNER TO tenantkit_owner;

--
-- Name: verify_proof(text, text, text); Type: FUNCTION; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE FUNCTION tenantkit.verify_proof(p_purpose text, p_subject text, p_proof text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF length(p_proof) IS DISTINCT FROM 82 OR translate(p_proof, '0123456789abcdef', '') <> '' THEN
        RETURN false;
    END IF;
    RETURN to_timestamp(('x' || lpad(substr(p_proof, 9, 10), 16, '0'))::bit(64)::bigint) > statement_timestamp()
       AND tenantkit.mac_matches(substr(p_proof, 1, 8),
                                 'proof.' || p_purpose || '.' || p_subject || '.' || substr(p_proof, 1, 18),
                                 substr(p_proof, 19));
END
$$;


ALTER FUNCTION tenantkit.verify_proof(p_purpose text, p_subject text, p_proof text) OWNER TO tenantkit_owner;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.api_keys (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash bytea NOT NULL,
    created_by uuid DEFAULT tenantkit.current_user_id(),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_key_hash_sha256 CHECK ((octet_length(key_hash) = 32)),
    CONSTRAINT api_keys_name_check CHECK (((btrim(name) <> ''::text) AND (char_length(name) <= 200))),
    CONSTRAINT api_keys_prefix_check CHECK (((char_length(prefix) >= 1) AND (char_length(prefix) <= 64)))
);

ALTER TABLE ONLY public.api_keys FORCE ROW LEVEL SECURITY;


ALTER TABLE public.api_keys OWNER TO tenantkit_owner;

--
-- Name: audit_chain_heads; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.audit_chain_heads (
    org_id uuid NOT NULL,
    last_seq bigint DEFAULT 0 NOT NULL,
    last_hash bytea DEFAULT decode(repeat('00'::text, 32), 'hex'::text) NOT NULL
);

ALTER TABLE ONLY public.audit_chain_heads FORCE ROW LEVEL SECURITY;


ALTER TABLE public.audit_chain_heads OWNER TO tenantkit_owner;

--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.audit_log (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    seq bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    actor_user_id uuid DEFAULT tenantkit.current_user_id(),
    actor_api_key_id uuid DEFAULT tenantkit.current_api_key_id(),
    action text NOT NULL,
    target text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    chain_version smallint DEFAULT 2 NOT NULL,
    CONSTRAINT audit_log_action_check CHECK (((btrim(action) <> ''::text) AND (char_length(action) <= 200))),
    CONSTRAINT audit_log_chain_version_check CHECK ((chain_version = ANY (ARRAY[1, 2]))),
    CONSTRAINT audit_log_hash_sha256 CHECK ((octet_length(hash) = 32)),
    CONSTRAINT audit_log_prev_hash_sha256 CHECK ((octet_length(prev_hash) = 32)),
    CONSTRAINT audit_log_seq_check CHECK ((seq >= 1))
);

ALTER TABLE ONLY public.audit_log FORCE ROW LEVEL SECURITY;


ALTER TABLE public.audit_log OWNER TO tenantkit_owner;

--
-- Name: catalog_items; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.catalog_items (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    kind text NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT catalog_items_kind_format CHECK ((kind ~ '^[a-z][a-z0-9_.-]{0,62}$'::text)),
    CONSTRAINT catalog_items_metadata_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT catalog_items_name_check CHECK (((btrim(name) <> ''::text) AND (char_length(name) <= 200))),
    CONSTRAINT catalog_items_slug_format CHECK ((slug ~ '^[a-z0-9][a-z0-9_.-]{0,127}$'::text))
);

ALTER TABLE ONLY public.catalog_items FORCE ROW LEVEL SECURITY;


ALTER TABLE public.catalog_items OWNER TO tenantkit_owner;

--
-- Name: ecu_accounts; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.ecu_accounts (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    balance bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ecu_accounts_balance_check CHECK ((balance >= 0))
);

ALTER TABLE ONLY public.ecu_accounts FORCE ROW LEVEL SECURITY;


ALTER TABLE public.ecu_accounts OWNER TO tenantkit_owner;

--
-- Name: ecu_ledger; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.ecu_ledger (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    amount bigint NOT NULL,
    reason text NOT NULL,
    idempotency_key text NOT NULL,
    balance_after bigint DEFAULT 0 NOT NULL,
    run_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ecu_ledger_amount_check CHECK ((amount <> 0)),
    CONSTRAINT ecu_ledger_balance_after_check CHECK ((balance_after >= 0)),
    CONSTRAINT ecu_ledger_idempotency_key_check CHECK (((char_length(idempotency_key) >= 1) AND (char_length(idempotency_key) <= 200))),
    CONSTRAINT ecu_ledger_reason_check CHECK (((btrim(reason) <> ''::text) AND (char_length(reason) <= 200)))
);

ALTER TABLE ONLY public.ecu_ledger FORCE ROW LEVEL SECURITY;


ALTER TABLE public.ecu_ledger OWNER TO tenantkit_owner;

--
-- Name: email_domain_claims; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.email_domain_claims (
    domain text NOT NULL,
    org_id uuid NOT NULL,
    claimed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.email_domain_claims FORCE ROW LEVEL SECURITY;


ALTER TABLE public.email_domain_claims OWNER TO tenantkit_owner;

--
-- Name: invitations; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.invitations (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    role text DEFAULT 'member'::text NOT NULL,
    token_hash bytea NOT NULL,
    invited_by uuid DEFAULT tenantkit.current_user_id(),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone DEFAULT (now() + '7 days'::interval) NOT NULL,
    accepted_at timestamp with time zone,
    accepted_by uuid,
    revoked_at timestamp with time zone,
    CONSTRAINT invitations_email_format CHECK (((octet_length(email) <= 320) AND (email ~ '^[!-?A-~]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'::text))),
    CONSTRAINT invitations_expiry_check CHECK ((expires_at > created_at)),
    CONSTRAINT invitations_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'member'::text, 'viewer'::text]))),
    CONSTRAINT invitations_single_outcome CHECK (((accepted_at IS NULL) OR (revoked_at IS NULL))),
    CONSTRAINT invitations_token_hash_sha256 CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY public.invitations FORCE ROW LEVEL SECURITY;


ALTER TABLE public.invitations OWNER TO tenantkit_owner;

--
-- Name: memberships; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.memberships (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    user_id uuid NOT NULL,
    role text DEFAULT 'member'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT memberships_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'member'::text, 'viewer'::text])))
);

ALTER TABLE ONLY public.memberships FORCE ROW LEVEL SECURITY;


ALTER TABLE public.memberships OWNER TO tenantkit_owner;

--
-- Name: org_email_domains; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.org_email_domains (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    domain text NOT NULL,
    enabled boolean DEFAULT false NOT NULL,
    default_role text DEFAULT 'member'::text NOT NULL,
    verified_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    challenge_hash bytea,
    challenge_expires_at timestamp with time zone,
    CONSTRAINT org_email_domains_challenge_sha256 CHECK (((challenge_hash IS NULL) OR (octet_length(challenge_hash) = 32))),
    CONSTRAINT org_email_domains_default_role_check CHECK ((default_role = ANY (ARRAY['member'::text, 'viewer'::text]))),
    CONSTRAINT org_email_domains_domain_format CHECK (((domain = lower(domain)) AND (octet_length(domain) <= 253) AND (domain ~ '^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$'::text))),
    CONSTRAINT org_email_domains_enabled_requires_verified CHECK (((NOT enabled) OR (verified_at IS NOT NULL)))
);

ALTER TABLE ONLY public.org_email_domains FORCE ROW LEVEL SECURITY;


ALTER TABLE public.org_email_domains OWNER TO tenantkit_owner;

--
-- Name: organizations; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT organizations_name_check CHECK (((btrim(name) <> ''::text) AND (char_length(name) <= 200))),
    CONSTRAINT organizations_settings_object CHECK ((jsonb_typeof(settings) = 'object'::text))
);

ALTER TABLE ONLY public.organizations FORCE ROW LEVEL SECURITY;


ALTER TABLE public.organizations OWNER TO tenantkit_owner;

--
-- Name: public_catalog_items; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.public_catalog_items (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT public_catalog_items_kind_format CHECK ((kind ~ '^[a-z][a-z0-9_.-]{0,62}$'::text)),
    CONSTRAINT public_catalog_items_metadata_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT public_catalog_items_name_check CHECK (((btrim(name) <> ''::text) AND (char_length(name) <= 200))),
    CONSTRAINT public_catalog_items_slug_format CHECK ((slug ~ '^[a-z0-9][a-z0-9_.-]{0,127}$'::text))
);


ALTER TABLE public.public_catalog_items OWNER TO tenantkit_owner;

--
-- Name: runs; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.runs (
    org_id uuid DEFAULT tenantkit.current_org() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    catalog_item_id uuid NOT NULL,
    user_id uuid DEFAULT tenantkit.current_user_id(),
    api_key_id uuid DEFAULT tenantkit.current_api_key_id(),
    cost bigint DEFAULT 0 NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    public_catalog_item_id uuid,
    private_catalog_item_id uuid,
    CONSTRAINT runs_actor_check CHECK (((user_id IS NOT NULL) OR (api_key_id IS NOT NULL))),
    CONSTRAINT runs_cost_check CHECK ((cost >= 0)),
    CONSTRAINT runs_one_catalog_item CHECK (((num_nonnulls(public_catalog_item_id, private_catalog_item_id) = 1) AND (catalog_item_id = COALESCE(private_catalog_item_id, public_catalog_item_id)))),
    CONSTRAINT runs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text]))),
    CONSTRAINT runs_timestamps_check CHECK (((finished_at IS NULL) OR (started_at IS NULL) OR (finished_at >= started_at)))
);

ALTER TABLE ONLY public.runs FORCE ROW LEVEL SECURITY;


ALTER TABLE public.runs OWNER TO tenantkit_owner;

--
-- Name: schema_functions; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.schema_functions (
    signature text NOT NULL,
    definition_md5 text NOT NULL,
    version bigint NOT NULL
);


ALTER TABLE public.schema_functions OWNER TO postgres;

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.schema_migrations (
    source text DEFAULT 'tenantkit'::text NOT NULL,
    version bigint NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    duration_ms bigint NOT NULL
);


ALTER TABLE public.schema_migrations OWNER TO postgres;

--
-- Name: users; Type: TABLE; Schema: public; Owner: tenantkit_owner
--

CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    email_verified boolean DEFAULT false NOT NULL,
    display_name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_email_format CHECK (((octet_length(email) <= 320) AND (email ~ '^[!-?A-~]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'::text)))
);

ALTER TABLE ONLY public.users FORCE ROW LEVEL SECURITY;


ALTER TABLE public.users OWNER TO tenantkit_owner;

--
-- Name: audit_keys; Type: TABLE; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TABLE tenantkit.audit_keys (
    id smallint DEFAULT 1 NOT NULL,
    inner_pad bytea NOT NULL,
    outer_pad bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_keys_one_key CHECK ((id = 1)),
    CONSTRAINT audit_keys_pads_length CHECK (((octet_length(inner_pad) = 64) AND (octet_length(outer_pad) = 64)))
);


ALTER TABLE tenantkit.audit_keys OWNER TO tenantkit_owner;

--
-- Name: context_keys; Type: TABLE; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TABLE tenantkit.context_keys (
    key_id text NOT NULL,
    inner_pad bytea NOT NULL,
    outer_pad bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    retired_at timestamp with time zone,
    CONSTRAINT context_keys_key_id_format CHECK (((length(key_id) = 8) AND (translate(key_id, '0123456789abcdef'::text, ''::text) = ''::text))),
    CONSTRAINT context_keys_pads_length CHECK (((octet_length(inner_pad) = 64) AND (octet_length(outer_pad) = 64)))
);


ALTER TABLE tenantkit.context_keys OWNER TO tenantkit_owner;

--
-- Name: sessions; Type: TABLE; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TABLE tenantkit.sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    token_hash bytea NOT NULL,
    user_id uuid NOT NULL,
    active_org_id uuid,
    version bigint DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT sessions_token_hash_length CHECK ((octet_length(token_hash) = 32))
);


ALTER TABLE tenantkit.sessions OWNER TO tenantkit_owner;

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (org_id, id);


--
-- Name: audit_chain_heads audit_chain_heads_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.audit_chain_heads
    ADD CONSTRAINT audit_chain_heads_pkey PRIMARY KEY (org_id);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (org_id, seq);


--
-- Name: catalog_items catalog_items_org_slug_key; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.catalog_items
    ADD CONSTRAINT catalog_items_org_slug_key UNIQUE (org_id, slug);


--
-- Name: catalog_items catalog_items_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.catalog_items
    ADD CONSTRAINT catalog_items_pkey PRIMARY KEY (org_id, id);


--
-- Name: ecu_accounts ecu_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.ecu_accounts
    ADD CONSTRAINT ecu_accounts_pkey PRIMARY KEY (org_id);


--
-- Name: ecu_ledger ecu_ledger_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.ecu_ledger
    ADD CONSTRAINT ecu_ledger_idempotency_key_key UNIQUE (org_id, idempotency_key);


--
-- Name: ecu_ledger ecu_ledger_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.ecu_ledger
    ADD CONSTRAINT ecu_ledger_pkey PRIMARY KEY (org_id, id);


--
-- Name: email_domain_claims email_domain_claims_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.email_domain_claims
    ADD CONSTRAINT email_domain_claims_pkey PRIMARY KEY (domain);


--
-- Name: invitations invitations_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT invitations_pkey PRIMARY KEY (org_id, id);


--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (org_id, user_id);


--
-- Name: org_email_domains org_email_domains_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.org_email_domains
    ADD CONSTRAINT org_email_domains_pkey PRIMARY KEY (org_id, domain);


--
-- Name: organizations organizations_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);


--
-- Name: public_catalog_items public_catalog_items_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.public_catalog_items
    ADD CONSTRAINT public_catalog_items_pkey PRIMARY KEY (id);


--
-- Name: public_catalog_items public_catalog_items_slug_key; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.public_catalog_items
    ADD CONSTRAINT public_catalog_items_slug_key UNIQUE (slug);


--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (org_id, id);


--
-- Name: schema_functions schema_functions_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.schema_functions
    ADD CONSTRAINT schema_functions_pkey PRIMARY KEY (signature);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (source, version);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: audit_keys audit_keys_pkey; Type: CONSTRAINT; Schema: tenantkit; Owner: tenantkit_owner
--

ALTER TABLE ONLY tenantkit.audit_keys
    ADD CONSTRAINT audit_keys_pkey PRIMARY KEY (id);


--
-- Name: context_keys context_keys_pkey; Type: CONSTRAINT; Schema: tenantkit; Owner: tenantkit_owner
--

ALTER TABLE ONLY tenantkit.context_keys
    ADD CONSTRAINT context_keys_pkey PRIMARY KEY (key_id);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: tenantkit; Owner: tenantkit_owner
--

ALTER TABLE ONLY tenantkit.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: tenantkit; Owner: tenantkit_owner
--

ALTER TABLE ONLY tenantkit.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: api_keys_key_hash_key; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE UNIQUE INDEX api_keys_key_hash_key ON public.api_keys USING btree (key_hash);


--
-- Name: api_keys_org_created_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX api_keys_org_created_idx ON public.api_keys USING btree (org_id, created_at);


--
-- Name: api_keys_prefix_key; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE UNIQUE INDEX api_keys_prefix_key ON public.api_keys USING btree (prefix);


--
-- Name: audit_log_org_occurred_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX audit_log_org_occurred_idx ON public.audit_log USING btree (org_id, occurred_at);


--
-- Name: catalog_items_org_kind_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX catalog_items_org_kind_idx ON public.catalog_items USING btree (org_id, kind, slug);


--
-- Name: catalog_items_org_name_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX catalog_items_org_name_idx ON public.catalog_items USING btree (org_id, name, id);


--
-- Name: ecu_ledger_org_created_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX ecu_ledger_org_created_idx ON public.ecu_ledger USING btree (org_id, created_at);


--
-- Name: ecu_ledger_org_run_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX ecu_ledger_org_run_idx ON public.ecu_ledger USING btree (org_id, run_id) WHERE (run_id IS NOT NULL);


--
-- Name: email_domain_claims_org_id_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX email_domain_claims_org_id_idx ON public.email_domain_claims USING btree (org_id, domain);


--
-- Name: invitations_email_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX invitations_email_idx ON public.invitations USING btree (org_id, lower(email));


--
-- Name: invitations_token_hash_key; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE UNIQUE INDEX invitations_token_hash_key ON public.invitations USING btree (token_hash);


--
-- Name: memberships_user_id_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX memberships_user_id_idx ON public.memberships USING btree (user_id);


--
-- Name: public_catalog_items_kind_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX public_catalog_items_kind_idx ON public.public_catalog_items USING btree (kind, slug);


--
-- Name: public_catalog_items_name_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX public_catalog_items_name_idx ON public.public_catalog_items USING btree (name, id);


--
-- Name: runs_org_api_key_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX runs_org_api_key_idx ON public.runs USING btree (org_id, api_key_id) WHERE (api_key_id IS NOT NULL);


--
-- Name: runs_org_catalog_item_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX runs_org_catalog_item_idx ON public.runs USING btree (org_id, catalog_item_id, created_at);


--
-- Name: runs_org_created_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX runs_org_created_idx ON public.runs USING btree (org_id, created_at);


--
-- Name: runs_org_status_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX runs_org_status_idx ON public.runs USING btree (org_id, status, created_at);


--
-- Name: runs_private_catalog_item_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX runs_private_catalog_item_idx ON public.runs USING btree (org_id, private_catalog_item_id) WHERE (private_catalog_item_id IS NOT NULL);


--
-- Name: runs_public_catalog_item_idx; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE INDEX runs_public_catalog_item_idx ON public.runs USING btree (public_catalog_item_id) WHERE (public_catalog_item_id IS NOT NULL);


--
-- Name: users_email_lower_key; Type: INDEX; Schema: public; Owner: tenantkit_owner
--

CREATE UNIQUE INDEX users_email_lower_key ON public.users USING btree (lower(email));


--
-- Name: sessions_expires_at_idx; Type: INDEX; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE INDEX sessions_expires_at_idx ON tenantkit.sessions USING btree (expires_at);


--
-- Name: sessions_user_id_idx; Type: INDEX; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE INDEX sessions_user_id_idx ON tenantkit.sessions USING btree (user_id, created_at);


--
-- Name: api_keys a0_api_keys_actor; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER a0_api_keys_actor BEFORE INSERT ON public.api_keys FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor('api_keys');


--
-- Name: audit_log a0_audit_log_context; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER a0_audit_log_context BEFORE INSERT ON public.audit_log FOR EACH ROW EXECUTE FUNCTION tenantkit.require_context_org('audit_log');


--
-- Name: ecu_ledger a0_ecu_ledger_context; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER a0_ecu_ledger_context BEFORE INSERT ON public.ecu_ledger FOR EACH ROW EXECUTE FUNCTION tenantkit.require_context_org('ecu_ledger');


--
-- Name: invitations a0_invitations_actor; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER a0_invitations_actor BEFORE INSERT ON public.invitations FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor('invitations');


--
-- Name: runs a0_runs_actor; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER a0_runs_actor BEFORE INSERT ON public.runs FOR EACH ROW EXECUTE FUNCTION tenantkit.stamp_actor('runs');


--
-- Name: audit_log audit_log_append; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER audit_log_append BEFORE INSERT ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.tenantkit_audit_log_before_insert();


--
-- Name: audit_log audit_log_append_only_row; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER audit_log_append_only_row BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.tenantkit_audit_log_reject_change();


--
-- Name: audit_log audit_log_append_only_statement; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER audit_log_append_only_statement BEFORE DELETE OR UPDATE OR TRUNCATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION public.tenantkit_audit_log_reject_change();


--
-- Name: catalog_items catalog_items_keep_ids; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER catalog_items_keep_ids BEFORE INSERT OR UPDATE OF id ON public.catalog_items FOR EACH ROW EXECUTE FUNCTION public.tenantkit_catalog_items_keep_ids();


--
-- Name: ecu_ledger ecu_ledger_post; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER ecu_ledger_post BEFORE INSERT ON public.ecu_ledger FOR EACH ROW EXECUTE FUNCTION public.tenantkit_ecu_ledger_before_insert();


--
-- Name: runs runs_debit_required; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE CONSTRAINT TRIGGER runs_debit_required AFTER INSERT ON public.runs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.tenantkit_runs_require_debit();


--
-- Name: runs runs_name_catalog_item; Type: TRIGGER; Schema: public; Owner: tenantkit_owner
--

CREATE TRIGGER runs_name_catalog_item BEFORE INSERT OR UPDATE OF catalog_item_id, public_catalog_item_id, private_catalog_item_id ON public.runs FOR EACH ROW EXECUTE FUNCTION public.tenantkit_runs_name_catalog_item();


--
-- Name: audit_keys audit_keys_fixed_row; Type: TRIGGER; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TRIGGER audit_keys_fixed_row BEFORE DELETE OR UPDATE ON tenantkit.audit_keys FOR EACH ROW EXECUTE FUNCTION tenantkit.audit_key_reject_change();


--
-- Name: audit_keys audit_keys_fixed_statement; Type: TRIGGER; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TRIGGER audit_keys_fixed_statement BEFORE DELETE OR UPDATE OR TRUNCATE ON tenantkit.audit_keys FOR EACH STATEMENT EXECUTE FUNCTION tenantkit.audit_key_reject_change();


--
-- Name: sessions sessions_announce_change; Type: TRIGGER; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TRIGGER sessions_announce_change AFTER UPDATE ON tenantkit.sessions FOR EACH ROW WHEN (((old.active_org_id IS DISTINCT FROM new.active_org_id) OR (old.version <> new.version))) EXECUTE FUNCTION tenantkit.announce_session();


--
-- Name: sessions sessions_announce_delete; Type: TRIGGER; Schema: tenantkit; Owner: tenantkit_owner
--

CREATE TRIGGER sessions_announce_delete AFTER DELETE ON tenantkit.sessions FOR EACH ROW EXECUTE FUNCTION tenantkit.announce_session();


--
-- Name: api_keys api_keys_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: api_keys api_keys_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: audit_chain_heads audit_chain_heads_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.audit_chain_heads
    ADD CONSTRAINT audit_chain_heads_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: audit_log audit_log_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id);


--
-- Name: catalog_items catalog_items_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.catalog_items
    ADD CONSTRAINT catalog_items_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: ecu_accounts ecu_accounts_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.ecu_accounts
    ADD CONSTRAINT ecu_accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: ecu_ledger ecu_ledger_account_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.ecu_ledger
    ADD CONSTRAINT ecu_ledger_account_fkey FOREIGN KEY (org_id) REFERENCES public.ecu_accounts(org_id) ON DELETE CASCADE;


--
-- Name: ecu_ledger ecu_ledger_run_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.ecu_ledger
    ADD CONSTRAINT ecu_ledger_run_fkey FOREIGN KEY (org_id, run_id) REFERENCES public.runs(org_id, id);


--
-- Name: invitations invitations_accepted_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT invitations_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: invitations invitations_invited_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT invitations_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: invitations invitations_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.invitations
    ADD CONSTRAINT invitations_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: memberships memberships_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: org_email_domains org_email_domains_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.org_email_domains
    ADD CONSTRAINT org_email_domains_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: runs runs_api_key_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_api_key_fkey FOREIGN KEY (org_id, api_key_id) REFERENCES public.api_keys(org_id, id);


--
-- Name: runs runs_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: runs runs_private_catalog_item_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_private_catalog_item_fkey FOREIGN KEY (org_id, private_catalog_item_id) REFERENCES public.catalog_items(org_id, id);


--
-- Name: runs runs_public_catalog_item_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_public_catalog_item_fkey FOREIGN KEY (public_catalog_item_id) REFERENCES public.public_catalog_items(id);


--
-- Name: runs runs_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: sessions sessions_active_org_id_fkey; Type: FK CONSTRAINT; Schema: tenantkit; Owner: tenantkit_owner
--

ALTER TABLE ONLY tenantkit.sessions
    ADD CONSTRAINT sessions_active_org_id_fkey FOREIGN KEY (active_org_id) REFERENCES public.organizations(id) ON DELETE SET NULL;


--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: tenantkit; Owner: tenantkit_owner
--

ALTER TABLE ONLY tenantkit.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: api_keys; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;

--
-- Name: api_keys api_keys_admin_insert; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY api_keys_admin_insert ON public.api_keys FOR INSERT TO tenantkit_app WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: api_keys api_keys_admin_update; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY api_keys_admin_update ON public.api_keys FOR UPDATE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for))) WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: api_keys api_keys_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY api_keys_definer ON public.api_keys TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: api_keys api_keys_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY api_keys_read ON public.api_keys FOR SELECT TO tenantkit_app USING (((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)) OR ((org_id = ( SELECT tenantkit.current_org() AS current_org)) AND (id = ( SELECT tenantkit.current_api_key_id() AS current_api_key_id)))));


--
-- Name: audit_chain_heads; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.audit_chain_heads ENABLE ROW LEVEL SECURITY;

--
-- Name: audit_chain_heads audit_chain_heads_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY audit_chain_heads_definer ON public.audit_chain_heads TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: audit_log; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.audit_log ENABLE ROW LEVEL SECURITY;

--
-- Name: audit_log audit_log_append; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY audit_log_append ON public.audit_log FOR INSERT TO tenantkit_app, tenantkit_operator WITH CHECK ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: audit_log audit_log_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY audit_log_definer ON public.audit_log TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: audit_log audit_log_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY audit_log_read ON public.audit_log FOR SELECT TO tenantkit_app, tenantkit_operator USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: catalog_items; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.catalog_items ENABLE ROW LEVEL SECURITY;

--
-- Name: catalog_items catalog_items_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY catalog_items_definer ON public.catalog_items TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: catalog_items catalog_items_delete; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY catalog_items_delete ON public.catalog_items FOR DELETE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for)));


--
-- Name: catalog_items catalog_items_insert; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY catalog_items_insert ON public.catalog_items FOR INSERT TO tenantkit_app WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for)));


--
-- Name: catalog_items catalog_items_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY catalog_items_read ON public.catalog_items FOR SELECT TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: catalog_items catalog_items_update; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY catalog_items_update ON public.catalog_items FOR UPDATE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for))) WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for)));


--
-- Name: ecu_accounts; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.ecu_accounts ENABLE ROW LEVEL SECURITY;

--
-- Name: ecu_accounts ecu_accounts_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY ecu_accounts_definer ON public.ecu_accounts TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: ecu_accounts ecu_accounts_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY ecu_accounts_read ON public.ecu_accounts FOR SELECT TO tenantkit_app, tenantkit_operator USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: ecu_ledger; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.ecu_ledger ENABLE ROW LEVEL SECURITY;

--
-- Name: ecu_ledger ecu_ledger_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY ecu_ledger_definer ON public.ecu_ledger TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: ecu_ledger ecu_ledger_grant; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY ecu_ledger_grant ON public.ecu_ledger FOR INSERT TO tenantkit_operator WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{operator}'::text[]) AS current_org_for)));


--
-- Name: ecu_ledger ecu_ledger_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY ecu_ledger_read ON public.ecu_ledger FOR SELECT TO tenantkit_app, tenantkit_operator USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: ecu_ledger ecu_ledger_spend; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY ecu_ledger_spend ON public.ecu_ledger FOR INSERT TO tenantkit_app WITH CHECK (((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for)) AND (amount <= 0)));


--
-- Name: email_domain_claims; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.email_domain_claims ENABLE ROW LEVEL SECURITY;

--
-- Name: email_domain_claims email_domain_claims_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY email_domain_claims_definer ON public.email_domain_claims TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: invitations; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.invitations ENABLE ROW LEVEL SECURITY;

--
-- Name: invitations invitations_admin; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY invitations_admin ON public.invitations TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for))) WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: invitations invitations_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY invitations_definer ON public.invitations TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: memberships; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: memberships memberships_admin_update; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY memberships_admin_update ON public.memberships FOR UPDATE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for))) WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: memberships memberships_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY memberships_definer ON public.memberships TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: memberships memberships_member_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY memberships_member_read ON public.memberships FOR SELECT TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: memberships memberships_remove; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY memberships_remove ON public.memberships FOR DELETE TO tenantkit_app USING (((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)) OR ((org_id = ( SELECT tenantkit.current_org() AS current_org)) AND (user_id = ( SELECT tenantkit.current_user_id() AS current_user_id)))));


--
-- Name: org_email_domains; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.org_email_domains ENABLE ROW LEVEL SECURITY;

--
-- Name: org_email_domains org_email_domains_admin_delete; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY org_email_domains_admin_delete ON public.org_email_domains FOR DELETE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: org_email_domains org_email_domains_admin_insert; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY org_email_domains_admin_insert ON public.org_email_domains FOR INSERT TO tenantkit_app WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: org_email_domains org_email_domains_admin_update; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY org_email_domains_admin_update ON public.org_email_domains FOR UPDATE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for))) WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: org_email_domains org_email_domains_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY org_email_domains_definer ON public.org_email_domains TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: org_email_domains org_email_domains_member_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY org_email_domains_member_read ON public.org_email_domains FOR SELECT TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: organizations; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.organizations ENABLE ROW LEVEL SECURITY;

--
-- Name: organizations organizations_admin_update; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY organizations_admin_update ON public.organizations FOR UPDATE TO tenantkit_app USING ((id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for))) WITH CHECK ((id = ( SELECT tenantkit.current_org_for('{admin}'::text[]) AS current_org_for)));


--
-- Name: organizations organizations_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY organizations_definer ON public.organizations TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: organizations organizations_member_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY organizations_member_read ON public.organizations FOR SELECT TO tenantkit_app, tenantkit_operator USING ((id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: runs; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.runs ENABLE ROW LEVEL SECURITY;

--
-- Name: runs runs_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY runs_definer ON public.runs TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: runs runs_insert; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY runs_insert ON public.runs FOR INSERT TO tenantkit_app WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for)));


--
-- Name: runs runs_read; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY runs_read ON public.runs FOR SELECT TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org() AS current_org)));


--
-- Name: runs runs_update; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY runs_update ON public.runs FOR UPDATE TO tenantkit_app USING ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for))) WITH CHECK ((org_id = ( SELECT tenantkit.current_org_for('{admin,member}'::text[]) AS current_org_for)));


--
-- Name: users; Type: ROW SECURITY; Schema: public; Owner: tenantkit_owner
--

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;

--
-- Name: users users_definer; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY users_definer ON public.users TO tenantkit_owner USING (true) WITH CHECK (true);


--
-- Name: users users_own_profile; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY users_own_profile ON public.users FOR UPDATE TO tenantkit_app USING ((id = ( SELECT tenantkit.current_user_id() AS current_user_id))) WITH CHECK ((id = ( SELECT tenantkit.current_user_id() AS current_user_id)));


--
-- Name: users users_visible; Type: POLICY; Schema: public; Owner: tenantkit_owner
--

CREATE POLICY users_visible ON public.users FOR SELECT TO tenantkit_app USING (((id = ( SELECT tenantkit.current_user_id() AS current_user_id)) OR (id IN ( SELECT m.user_id
   FROM public.memberships m))));


--
-- Name: SCHEMA public; Type: ACL; Schema: -; Owner: pg_database_owner
--

GRANT ALL ON SCHEMA public TO tenantkit_owner;
GRANT USAGE ON SCHEMA public TO tenantkit_app;


--
-- Name: SCHEMA tenantkit; Type: ACL; Schema: -; Owner: tenantkit_owner
--

GRANT USAGE ON SCHEMA tenantkit TO tenantkit_app;
GRANT USAGE ON SCHEMA tenantkit TO tenantkit_operator;


--
-- Name: LANGUAGE plpgsql; Type: ACL; Schema: -; Owner: postgres
--

REVOKE ALL ON LANGUAGE plpgsql FROM PUBLIC;
GRANT ALL ON LANGUAGE plpgsql TO tenantkit_owner;


--
-- Name: FUNCTION tenantkit_accept_invitation(p_token text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_accept_invitation(p_token text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_accept_invitation(p_token text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_audit_canonical(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_canonical(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_audit_canonical(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_audit_checkpoint(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_checkpoint() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_audit_checkpoint() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_audit_log_before_insert(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_log_before_insert() FROM PUBLIC;


--
-- Name: FUNCTION tenantkit_audit_log_reject_change(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_log_reject_change() FROM PUBLIC;


--
-- Name: FUNCTION tenantkit_audit_row_hash(p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_row_hash(p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_audit_row_hash(p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_audit_verify(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_verify() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_audit_verify() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_audit_verify_checkpoint(p_org_id uuid, p_seq bigint, p_head bytea, p_signature bytea) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_authenticate_api_key(p_prefix text, p_key_hash bytea); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_authenticate_api_key(p_prefix text, p_key_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_authenticate_api_key(p_prefix text, p_key_hash bytea) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_catalog_items_keep_ids(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_catalog_items_keep_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_catalog_items_keep_ids() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_change_email(p_email text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_change_email(p_email text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_change_email(p_email text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_check_api_key(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_check_api_key() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_check_api_key() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_create_organization(p_name text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_create_organization(p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_create_organization(p_name text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_create_user(p_email text, p_display_name text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_create_user(p_email text, p_display_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_create_user(p_email text, p_display_name text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_ecu_ledger_before_insert(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_ecu_ledger_before_insert() FROM PUBLIC;


--
-- Name: FUNCTION tenantkit_issue_domain_challenge(p_domain text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_issue_domain_challenge(p_domain text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_issue_domain_challenge(p_domain text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_join_by_email_domain(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_join_by_email_domain() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_join_by_email_domain() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_runs_name_catalog_item(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_runs_name_catalog_item() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_runs_name_catalog_item() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_runs_require_debit(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_runs_require_debit() FROM PUBLIC;


--
-- Name: FUNCTION tenantkit_session_close(p_session_id uuid); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_session_close(p_session_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_session_close(p_session_id uuid) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_session_open(p_token_hash bytea, p_expires_at bigint, p_proof text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_session_open(p_token_hash bytea, p_expires_at bigint, p_proof text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_session_open(p_token_hash bytea, p_expires_at bigint, p_proof text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_session_resume(p_token_hash bytea); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_session_resume(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_session_resume(p_token_hash bytea) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_session_switch(p_session_id uuid); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_session_switch(p_session_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_session_switch(p_session_id uuid) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_sweep_sessions(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_sweep_sessions() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_sweep_sessions() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_use_api_key(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_use_api_key() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_use_api_key() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_user_by_email(p_email text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_user_by_email(p_email text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_user_by_email(p_email text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_user_organizations(); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_user_organizations() FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_user_organizations() TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_verify_email(p_user_id uuid, p_proof text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_verify_email(p_user_id uuid, p_proof text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_verify_email(p_user_id uuid, p_proof text) TO tenantkit_app;


--
-- Name: FUNCTION tenantkit_verify_org_domain(p_domain text, p_challenge text, p_proof text); Type: ACL; Schema: public; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION public.tenantkit_verify_org_domain(p_domain text, p_challenge text, p_proof text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.tenantkit_verify_org_domain(p_domain text, p_challenge text, p_proof text) TO tenantkit_app;


--
-- Name: FUNCTION announce_session(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.announce_session() FROM PUBLIC;


--
-- Name: FUNCTION append_audit(p_org uuid, p_user uuid, p_action text, p_target text, p_details jsonb); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.append_audit(p_org uuid, p_user uuid, p_action text, p_target text, p_details jsonb) FROM PUBLIC;


--
-- Name: FUNCTION audit_canonical_v2(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.audit_canonical_v2(p_org_id uuid, p_seq bigint, p_occurred_at timestamp with time zone, p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb) FROM PUBLIC;


--
-- Name: FUNCTION audit_chain_check(p_org_id uuid, p_seq bigint, p_head bytea); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.audit_chain_check(p_org_id uuid, p_seq bigint, p_head bytea) FROM PUBLIC;


--
-- Name: FUNCTION audit_checkpoint_message(p_org_id uuid, p_seq bigint, p_head bytea); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.audit_checkpoint_message(p_org_id uuid, p_seq bigint, p_head bytea) FROM PUBLIC;


--
-- Name: FUNCTION audit_field(p_value text); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.audit_field(p_value text) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_reject_change(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.audit_key_reject_change() FROM PUBLIC;


--
-- Name: FUNCTION create_organization_for(p_user_id uuid, p_name text); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.create_organization_for(p_user_id uuid, p_name text) FROM PUBLIC;


--
-- Name: FUNCTION current_api_key_id(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.current_api_key_id() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.current_api_key_id() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.current_api_key_id() TO tenantkit_operator;


--
-- Name: FUNCTION current_org(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.current_org() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.current_org() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.current_org() TO tenantkit_operator;


--
-- Name: FUNCTION current_org_for(p_roles text[]); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.current_org_for(p_roles text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.current_org_for(p_roles text[]) TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.current_org_for(p_roles text[]) TO tenantkit_operator;


--
-- Name: FUNCTION "current_role"(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit."current_role"() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit."current_role"() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit."current_role"() TO tenantkit_operator;


--
-- Name: FUNCTION current_user_id(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.current_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.current_user_id() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.current_user_id() TO tenantkit_operator;


--
-- Name: FUNCTION hmac_sha256(p_inner_pad bytea, p_outer_pad bytea, p_message bytea); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.hmac_sha256(p_inner_pad bytea, p_outer_pad bytea, p_message bytea) FROM PUBLIC;


--
-- Name: FUNCTION install_context_key(p_secret bytea); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.install_context_key(p_secret bytea) FROM PUBLIC;


--
-- Name: FUNCTION mac(p_key_id text, p_message text); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.mac(p_key_id text, p_message text) FROM PUBLIC;


--
-- Name: FUNCTION mac_matches(p_key_id text, p_message text, p_mac text); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.mac_matches(p_key_id text, p_message text, p_mac text) FROM PUBLIC;


--
-- Name: FUNCTION require_context_org(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.require_context_org() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.require_context_org() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.require_context_org() TO tenantkit_operator;


--
-- Name: FUNCTION require_user(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.require_user() FROM PUBLIC;


--
-- Name: FUNCTION session_digest(p_id uuid); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.session_digest(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.session_digest(p_id uuid) TO tenantkit_app;


--
-- Name: FUNCTION session_pid(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.session_pid() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.session_pid() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.session_pid() TO tenantkit_operator;


--
-- Name: FUNCTION stamp_actor(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.stamp_actor() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.stamp_actor() TO tenantkit_app;


--
-- Name: FUNCTION use_native_verifier(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.use_native_verifier() FROM PUBLIC;


--
-- Name: FUNCTION use_portable_verifier(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.use_portable_verifier() FROM PUBLIC;


--
-- Name: FUNCTION user_shares_current_org(p_user uuid); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.user_shares_current_org(p_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.user_shares_current_org(p_user uuid) TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.user_shares_current_org(p_user uuid) TO tenantkit_operator;


--
-- Name: FUNCTION verified_principal(); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.verified_principal() FROM PUBLIC;
GRANT ALL ON FUNCTION tenantkit.verified_principal() TO tenantkit_app;
GRANT ALL ON FUNCTION tenantkit.verified_principal() TO tenantkit_operator;


--
-- Name: FUNCTION verify_proof(p_purpose text, p_subject text, p_proof text); Type: ACL; Schema: tenantkit; Owner: tenantkit_owner
--

REVOKE ALL ON FUNCTION tenantkit.verify_proof(p_purpose text, p_subject text, p_proof text) FROM PUBLIC;


--
-- Name: TABLE api_keys; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,INSERT ON TABLE public.api_keys TO tenantkit_app;


--
-- Name: COLUMN api_keys.revoked_at; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(revoked_at) ON TABLE public.api_keys TO tenantkit_app;


--
-- Name: TABLE audit_log; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,INSERT ON TABLE public.audit_log TO tenantkit_app;
GRANT SELECT,INSERT ON TABLE public.audit_log TO tenantkit_operator;


--
-- Name: TABLE catalog_items; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.catalog_items TO tenantkit_app;


--
-- Name: TABLE ecu_accounts; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT ON TABLE public.ecu_accounts TO tenantkit_app;
GRANT SELECT ON TABLE public.ecu_accounts TO tenantkit_operator;


--
-- Name: TABLE ecu_ledger; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,INSERT ON TABLE public.ecu_ledger TO tenantkit_app;
GRANT SELECT,INSERT ON TABLE public.ecu_ledger TO tenantkit_operator;


--
-- Name: TABLE invitations; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,INSERT ON TABLE public.invitations TO tenantkit_app;


--
-- Name: COLUMN invitations.revoked_at; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(revoked_at) ON TABLE public.invitations TO tenantkit_app;


--
-- Name: TABLE memberships; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,DELETE ON TABLE public.memberships TO tenantkit_app;


--
-- Name: COLUMN memberships.role; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(role) ON TABLE public.memberships TO tenantkit_app;


--
-- Name: TABLE org_email_domains; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,DELETE ON TABLE public.org_email_domains TO tenantkit_app;


--
-- Name: COLUMN org_email_domains.org_id; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT INSERT(org_id) ON TABLE public.org_email_domains TO tenantkit_app;


--
-- Name: COLUMN org_email_domains.domain; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT INSERT(domain) ON TABLE public.org_email_domains TO tenantkit_app;


--
-- Name: COLUMN org_email_domains.enabled; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT INSERT(enabled),UPDATE(enabled) ON TABLE public.org_email_domains TO tenantkit_app;


--
-- Name: COLUMN org_email_domains.default_role; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT INSERT(default_role),UPDATE(default_role) ON TABLE public.org_email_domains TO tenantkit_app;


--
-- Name: COLUMN org_email_domains.created_at; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT INSERT(created_at) ON TABLE public.org_email_domains TO tenantkit_app;


--
-- Name: TABLE organizations; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT ON TABLE public.organizations TO tenantkit_app;
GRANT SELECT ON TABLE public.organizations TO tenantkit_operator;


--
-- Name: COLUMN organizations.name; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(name) ON TABLE public.organizations TO tenantkit_app;


--
-- Name: COLUMN organizations.settings; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(settings) ON TABLE public.organizations TO tenantkit_app;


--
-- Name: TABLE public_catalog_items; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT ON TABLE public.public_catalog_items TO tenantkit_app;


--
-- Name: TABLE runs; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT,INSERT ON TABLE public.runs TO tenantkit_app;


--
-- Name: COLUMN runs.status; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(status) ON TABLE public.runs TO tenantkit_app;


--
-- Name: COLUMN runs.error; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(error) ON TABLE public.runs TO tenantkit_app;


--
-- Name: COLUMN runs.started_at; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(started_at) ON TABLE public.runs TO tenantkit_app;


--
-- Name: COLUMN runs.finished_at; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(finished_at) ON TABLE public.runs TO tenantkit_app;


--
-- Name: TABLE schema_functions; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT ON TABLE public.schema_functions TO PUBLIC;


--
-- Name: TABLE schema_migrations; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT ON TABLE public.schema_migrations TO tenantkit_app;


--
-- Name: TABLE users; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT SELECT ON TABLE public.users TO tenantkit_app;


--
-- Name: COLUMN users.display_name; Type: ACL; Schema: public; Owner: tenantkit_owner
--

GRANT UPDATE(display_name) ON TABLE public.users TO tenantkit_app;


--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: tenantkit_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE tenantkit_owner REVOKE ALL ON FUNCTIONS  FROM PUBLIC;


--
-- PostgreSQL database dump complete
--

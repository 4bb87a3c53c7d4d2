SET LOCAL ROLE tenantkit_owner;

-- 0014_entry_points_v2: the pre-tenant entry points take the principal from the verified claim,
-- never from an argument; triggers check the verified context before they do anything; API-key
-- hashes and prefixes are unique across orgs; credits cannot be minted; a run cannot exist
-- without its debit; emails and domains are plain ASCII so case folding cannot make a lookalike.
--
-- Every SECURITY DEFINER function here pins `search_path = pg_catalog, pg_temp` (the caller's
-- temp schema last, where it cannot shadow anything; the application cannot create temp objects
-- anyway since 0012) and names every relation with its schema. Each writes its own audit entry.
--
-- Errors (SQLSTATE): 42501 no verified principal for the call; P0002 user not found;
-- TK001-TK004 invitations (unknown, expired, used or revoked, other email); TK005 domain verified
-- by another organization; TK006 invalid proof or challenge; TK007 invalid API key; TK010 audit
-- log is append-only.

DROP FUNCTION tenantkit_create_organization(uuid, text);
DROP FUNCTION tenantkit_accept_invitation(uuid, text);
DROP FUNCTION tenantkit_join_by_email_domain(uuid);
DROP FUNCTION tenantkit_lookup_api_key(bytea);
DROP FUNCTION tenantkit_user_organizations(uuid);
DROP FUNCTION tenantkit_api_key_candidates(text);
DROP FUNCTION tenantkit_verify_org_domain(text);

ALTER FUNCTION tenantkit_audit_canonical(uuid, bigint, timestamptz, uuid, uuid, text, text, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenantkit_audit_log_reject_change() SET search_path = pg_catalog, pg_temp;

-- The functions kept from earlier files, with qualified names under the pinned path.
CREATE OR REPLACE FUNCTION tenantkit_audit_row_hash(
    p_prev_hash bytea, p_org_id uuid, p_seq bigint, p_occurred_at timestamptz,
    p_actor_user_id uuid, p_actor_api_key_id uuid, p_action text, p_target text, p_details jsonb)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT sha256(p_prev_hash || public.tenantkit_audit_canonical(
        p_org_id, p_seq, p_occurred_at, p_actor_user_id, p_actor_api_key_id,
        p_action, p_target, p_details))
$fn$;

CREATE OR REPLACE FUNCTION tenantkit_runs_check_catalog_item()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.catalog_items c
                    WHERE c.id = NEW.catalog_item_id
                      AND (c.org_id IS NULL OR c.org_id = NEW.org_id)) THEN
        RAISE EXCEPTION 'catalog item % is not available to organization %', NEW.catalog_item_id, NEW.org_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'runs_catalog_item_id_fkey';
    END IF;
    RETURN NEW;
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Emails and domains: printable ASCII, domains lowercase (IDNs in their xn-- form).
-- ---------------------------------------------------------------------------------------------
ALTER TABLE users DROP CONSTRAINT users_email_format;
ALTER TABLE users ADD CONSTRAINT users_email_format CHECK (
    octet_length(email) <= 320
    AND email ~ '^[!-?A-~]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$');
ALTER TABLE invitations DROP CONSTRAINT invitations_email_format;
ALTER TABLE invitations ADD CONSTRAINT invitations_email_format CHECK (
    octet_length(email) <= 320
    AND email ~ '^[!-?A-~]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$');

-- The principal of an entry point call: a verified user claim, or an error.
CREATE FUNCTION tenantkit.require_user() RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_user uuid := tenantkit.current_user_id();
BEGIN
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'this call needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_user;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.require_user() FROM PUBLIC;

-- Appends an audit entry as the owner (entry points write their own).
CREATE FUNCTION tenantkit.append_audit(p_org uuid, p_user uuid, p_action text, p_target text, p_details jsonb)
RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
    INSERT INTO public.audit_log (org_id, actor_user_id, actor_api_key_id, action, target, details)
    VALUES (p_org, p_user, NULL, p_action, p_target, p_details)
$fn$;
REVOKE ALL ON FUNCTION tenantkit.append_audit(uuid, uuid, text, text, jsonb) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------------------------

-- tenantkit_create_user(email, display name): sign-up. The email starts unverified.
CREATE FUNCTION tenantkit_create_user(p_email text, p_display_name text)
RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    INSERT INTO public.users (email, display_name) VALUES (p_email, p_display_name) RETURNING id
$fn$;

-- tenantkit_user_by_email(email): sign-in's lookup of one user whose email the caller knows.
CREATE FUNCTION tenantkit_user_by_email(p_email text)
RETURNS TABLE (id uuid, email text, email_verified boolean, display_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT u.id, u.email, u.email_verified, u.display_name FROM public.users u WHERE lower(u.email) = lower(p_email)
$fn$;

-- tenantkit_verify_email(user, proof): marks the user's current email verified. The proof is the
-- application's signature over "<user>:<email>" (purpose "email"), made after its own email round
-- trip; an injection can call this but cannot sign.
CREATE FUNCTION tenantkit_verify_email(p_user_id uuid, p_proof text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_email text;
BEGIN
    SELECT u.email INTO v_email FROM public.users u WHERE u.id = p_user_id FOR UPDATE;
    IF NOT FOUND OR NOT tenantkit.verify_proof('email', p_user_id::text || ':' || v_email, p_proof) THEN
        RAISE EXCEPTION 'the email verification proof is not valid' USING ERRCODE = 'TK006';
    END IF;
    UPDATE public.users SET email_verified = true WHERE id = p_user_id;
END
$fn$;

-- tenantkit_change_email(email): the signed-in user's new email, unverified until proven again.
CREATE FUNCTION tenantkit_change_email(p_email text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    UPDATE public.users SET email = p_email, email_verified = false WHERE id = tenantkit.require_user()
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Organizations and joining
-- ---------------------------------------------------------------------------------------------

-- tenantkit.create_organization_for(user, name): the operator's way to provision an organization
-- for a user (seeding, support, tests): executable by the owner's members only.
CREATE FUNCTION tenantkit.create_organization_for(p_user_id uuid, p_name text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;
REVOKE ALL ON FUNCTION tenantkit.create_organization_for(uuid, text) FROM PUBLIC;

-- tenantkit_create_organization(name): the signed-in user creates an organization and becomes
-- its admin; its ECU account opens at 0 and its audit log records the creation.
CREATE FUNCTION tenantkit_create_organization(p_name text)
RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$ SELECT tenantkit.create_organization_for(tenantkit.require_user(), p_name) $fn$;

-- A token names one invitation across all orgs, so a row planted with another org's token hash
-- cannot capture its acceptance.
ALTER TABLE invitations DROP CONSTRAINT invitations_token_hash_key;
DROP INDEX invitations_token_hash_idx;
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);

-- tenantkit_accept_invitation(token): the signed-in user redeems an invitation addressed to their
-- email; one acceptance wins under a row lock. Returns the org and the role held there.
CREATE FUNCTION tenantkit_accept_invitation(p_token text)
RETURNS TABLE (org_id uuid, role text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;

-- tenantkit_join_by_email_domain(): email-domain auto-join for the signed-in user, whose email
-- must be verified; returns the organizations joined by this call.
CREATE FUNCTION tenantkit_join_by_email_domain()
RETURNS TABLE (org_id uuid, role text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;

-- tenantkit_user_organizations(): the signed-in user's org switcher, by organization name.
CREATE FUNCTION tenantkit_user_organizations()
RETURNS TABLE (org_id uuid, name text, role text, joined_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT m.org_id, o.name, m.role, m.created_at
      FROM public.memberships m JOIN public.organizations o ON o.id = m.org_id
     WHERE m.user_id = tenantkit.require_user()
     ORDER BY o.name, m.org_id
$fn$;

-- ---------------------------------------------------------------------------------------------
-- API keys: unique across orgs. A key presented in today's format (`tk_<org><key>_<secret>`)
-- needs no lookup: its claim carries the org, the key id and the hash of what was presented, and
-- tenantkit.verified_principal() checks them with the statement. Keys of the first format
-- (`tk_<8 hex>_<secret>`) are found by prefix and hash here, failing closed unless exactly one
-- active key matches.
-- ---------------------------------------------------------------------------------------------
ALTER TABLE api_keys DROP CONSTRAINT api_keys_key_hash_key;
DROP INDEX api_keys_key_hash_idx;
DROP INDEX api_keys_prefix_idx;
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
-- Today's prefix is `tk_` and the key's id in hex.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_prefix_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_prefix_check CHECK (char_length(prefix) BETWEEN 1 AND 64);

CREATE FUNCTION tenantkit_authenticate_api_key(p_prefix text, p_key_hash bytea)
RETURNS TABLE (org_id uuid, api_key_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT k.org_id, k.id FROM public.api_keys k
     WHERE k.prefix = p_prefix AND k.revoked_at IS NULL AND sha256(k.key_hash) = sha256(p_key_hash)
$fn$;

-- tenantkit_use_api_key(): the acting key, after the claim's set_config in the same statement.
-- Fails with TK007 unless the claim names an unrevoked key whose hash matches the presented key,
-- so a key request fails loudly in its first round trip; records the use at most once a minute.
CREATE FUNCTION tenantkit_use_api_key()
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Triggers: the verified context first.
-- ---------------------------------------------------------------------------------------------

-- Fires first (triggers fire in name order) and as the invoker: a row written by anyone but the
-- owner's own functions must belong to the verified org before the definer triggers after it
-- lock or read anything, and audit actors are the verified principal, whatever was supplied.
CREATE FUNCTION tenantkit.require_context_org()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_principal tenantkit.principal;
BEGIN
    IF pg_has_role(current_user, 'tenantkit_owner', 'USAGE') THEN
        RETURN NEW;
    END IF;
    v_principal := tenantkit.verified_principal();
    IF NEW.org_id IS DISTINCT FROM v_principal.org_id THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "%"', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_TABLE_NAME = 'audit_log' THEN
        NEW.actor_user_id := v_principal.user_id;
        NEW.actor_api_key_id := v_principal.api_key_id;
    END IF;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit.require_context_org() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit.require_context_org() TO tenantkit_app, tenantkit_operator;

CREATE TRIGGER a0_ecu_ledger_context BEFORE INSERT ON ecu_ledger
    FOR EACH ROW EXECUTE FUNCTION tenantkit.require_context_org();
CREATE TRIGGER a0_audit_log_context BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tenantkit.require_context_org();

-- The ledger posting, now that the row is known to be the verified org's.
CREATE OR REPLACE FUNCTION tenantkit_ecu_ledger_before_insert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
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
        RAISE EXCEPTION 'insufficient ECU balance: balance %, amount %', v_balance, NEW.amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ecu_accounts_balance_check', TABLE = 'ecu_accounts';
    END IF;
    UPDATE public.ecu_accounts SET balance = v_balance + NEW.amount, updated_at = now() WHERE org_id = NEW.org_id;
    NEW.balance_after := v_balance + NEW.amount;
    RETURN NEW;
END
$fn$;

-- The audit append, without the old setting juggling (the owner's definer policy covers it).
CREATE OR REPLACE FUNCTION tenantkit_audit_log_before_insert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_seq  bigint;
    v_prev bytea;
BEGIN
    IF NEW.org_id IS NULL THEN
        RAISE EXCEPTION 'null value in column "org_id" of relation "audit_log"'
            USING ERRCODE = 'not_null_violation', COLUMN = 'org_id', TABLE = 'audit_log';
    END IF;
    INSERT INTO public.audit_chain_heads (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT h.last_seq, h.last_hash INTO STRICT v_seq, v_prev
      FROM public.audit_chain_heads h WHERE h.org_id = NEW.org_id FOR UPDATE;

    NEW.seq         := v_seq + 1;
    NEW.prev_hash   := v_prev;
    NEW.occurred_at := clock_timestamp();
    NEW.details     := coalesce(NEW.details, '{}'::jsonb);
    NEW.hash        := public.tenantkit_audit_row_hash(
                           NEW.prev_hash, NEW.org_id, NEW.seq, NEW.occurred_at, NEW.actor_user_id,
                           NEW.actor_api_key_id, NEW.action, NEW.target, NEW.details);
    UPDATE public.audit_chain_heads SET last_seq = NEW.seq, last_hash = NEW.hash WHERE org_id = NEW.org_id;
    RETURN NEW;
END
$fn$;

-- tenantkit_audit_verify(): the verified org's chain; NULL when intact, else the first broken seq.
CREATE OR REPLACE FUNCTION tenantkit_audit_verify()
RETURNS bigint
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_org       uuid := tenantkit.current_org();
    v_expected  bigint := 1;
    v_prev      bytea := decode(repeat('00', 32), 'hex');
    v_head_seq  bigint;
    v_head_hash bytea;
    r           record;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'no verified organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR r IN SELECT a.* FROM public.audit_log a WHERE a.org_id = v_org ORDER BY a.seq LOOP
        IF r.seq <> v_expected OR r.prev_hash <> v_prev
           OR r.hash <> public.tenantkit_audit_row_hash(v_prev, r.org_id, r.seq, r.occurred_at, r.actor_user_id,
                                                       r.actor_api_key_id, r.action, r.target, r.details) THEN
            RETURN v_expected;
        END IF;
        v_prev := r.hash;
        v_expected := v_expected + 1;
    END LOOP;
    SELECT h.last_seq, h.last_hash INTO v_head_seq, v_head_hash FROM public.audit_chain_heads h WHERE h.org_id = v_org;
    IF FOUND AND (v_head_seq <> v_expected - 1 OR v_head_hash <> v_prev) THEN
        RETURN least(v_head_seq + 1, v_expected);
    END IF;
    RETURN NULL;
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Runs: a run with a cost exists only together with its debit (checked at commit).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION tenantkit_runs_require_debit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF NEW.cost > 0 AND NOT EXISTS (
        SELECT 1 FROM public.ecu_ledger l
         WHERE l.org_id = NEW.org_id AND l.run_id = NEW.id AND l.amount = -NEW.cost) THEN
        RAISE EXCEPTION 'a run costing % ECU needs its debit in the same transaction', NEW.cost
            USING ERRCODE = 'check_violation', CONSTRAINT = 'runs_debit_required', TABLE = 'runs';
    END IF;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit_runs_require_debit() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER runs_debit_required AFTER INSERT ON runs
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tenantkit_runs_require_debit();

-- ---------------------------------------------------------------------------------------------
-- Domains: verification takes a TenantKit-issued challenge (stored hashed, the value the org
-- publishes in DNS) and the application's proof that it found it there.
-- ---------------------------------------------------------------------------------------------
ALTER TABLE org_email_domains
    ADD COLUMN challenge_hash bytea,
    ADD COLUMN challenge_expires_at timestamptz,
    ADD CONSTRAINT org_email_domains_challenge_sha256 CHECK (challenge_hash IS NULL OR octet_length(challenge_hash) = 32);

-- tenantkit_issue_domain_challenge(domain): a new challenge for one of the active org's domains
-- (admins only), valid for 7 days; returns it once.
CREATE FUNCTION tenantkit_issue_domain_challenge(p_domain text)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;

-- tenantkit_verify_org_domain(domain, challenge, proof): marks the domain verified for the active
-- org (admins only) and claims it globally. `proof` is the application's signature over
-- "<org>:<domain>:<challenge>" (purpose "domain"), made after it found the challenge in DNS.
CREATE FUNCTION tenantkit_verify_org_domain(p_domain text, p_challenge text, p_proof text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;

-- ---------------------------------------------------------------------------------------------
-- EXECUTE: tenantkit_app only.
-- ---------------------------------------------------------------------------------------------
REVOKE ALL ON FUNCTION tenantkit_create_user(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_user_by_email(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_verify_email(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_change_email(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_create_organization(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_accept_invitation(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_join_by_email_domain() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_user_organizations() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_authenticate_api_key(text, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_use_api_key() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_issue_domain_challenge(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenantkit_verify_org_domain(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_create_user(text, text), tenantkit_user_by_email(text),
    tenantkit_verify_email(uuid, text), tenantkit_change_email(text), tenantkit_create_organization(text),
    tenantkit_accept_invitation(text), tenantkit_join_by_email_domain(), tenantkit_user_organizations(),
    tenantkit_authenticate_api_key(text, bytea), tenantkit_use_api_key(),
    tenantkit_issue_domain_challenge(text), tenantkit_verify_org_domain(text, text, text)
    TO tenantkit_app;

SET LOCAL ROLE tenantkit_owner;

-- 0004_org_email_domains: email-domain auto-join.
--
-- Rule: a domain belongs to at most one organization globally.
--
-- How it is enforced (Citus-friendly, no existence oracle):
--   * org_email_domains is a normal tenant table keyed (org_id, domain). Any number of orgs may
--     hold an UNVERIFIED row for the same domain, so adding a domain never reveals whether some
--     other org uses it. A global UNIQUE (domain) on this table is impossible anyway once it is
--     distributed by org_id (Citus unique constraints must include the distribution column).
--   * Global uniqueness lives in email_domain_claims (domain PRIMARY KEY), a small global table
--     (a Citus reference table). The application has no privileges on it at all.
--   * A claim is only taken by tenantkit_verify_org_domain(domain), which the application calls
--     after it has proven control of the domain (DNS TXT record or similar). Only then can the
--     caller learn "already claimed" (SQLSTATE TK005), and someone who controls the domain's DNS
--     is entitled to know. verified_at cannot be written by tenantkit_app directly (column-level
--     grants), and enabled requires verified_at, so auto-join only ever uses verified domains.
--   * Deleting a domain row does not delete the claim; a claim is "stale" when its org no longer
--     has a verified row for the domain, and the next verifying org takes it over. Auto-join
--     requires the claim AND a verified, enabled row in the claiming org.
CREATE TABLE org_email_domains (
    org_id       uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    domain       text        NOT NULL,
    enabled      boolean     NOT NULL DEFAULT false,
    default_role text        NOT NULL DEFAULT 'member',
    verified_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT org_email_domains_pkey PRIMARY KEY (org_id, domain),
    CONSTRAINT org_email_domains_domain_format CHECK (
        domain = lower(domain)
        AND octet_length(domain) <= 253
        AND domain ~ '^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$'),
    -- Auto-join never grants admin.
    CONSTRAINT org_email_domains_default_role_check CHECK (default_role IN ('member', 'viewer')),
    CONSTRAINT org_email_domains_enabled_requires_verified CHECK (NOT enabled OR verified_at IS NOT NULL),
    CONSTRAINT org_email_domains_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

ALTER TABLE org_email_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_email_domains FORCE ROW LEVEL SECURITY;

CREATE POLICY org_email_domains_tenant ON org_email_domains
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE POLICY org_email_domains_definer_read ON org_email_domains FOR SELECT TO tenantkit_owner
    USING ((SELECT current_setting('tenantkit.cross_org_read', true)) = 'on');

-- The application manages its org's domains but cannot mark one verified itself.
GRANT SELECT, DELETE ON org_email_domains TO tenantkit_app;
GRANT INSERT (org_id, domain, enabled, default_role, created_at) ON org_email_domains TO tenantkit_app;
GRANT UPDATE (enabled, default_role) ON org_email_domains TO tenantkit_app;

-- Global claim registry. It has an org_id column, so it follows the tenant RLS convention too
-- (closed unless tenantkit.org_id matches); only SECURITY DEFINER functions ever touch it.
-- No FK to organizations: a Citus reference table cannot reference a distributed table, and
-- stale claims are harmless (see above).
CREATE TABLE email_domain_claims (
    domain     text        NOT NULL,
    org_id     uuid        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT email_domain_claims_pkey PRIMARY KEY (domain)
);
CREATE INDEX email_domain_claims_org_id_idx ON email_domain_claims (org_id, domain);

ALTER TABLE email_domain_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_domain_claims FORCE ROW LEVEL SECURITY;

CREATE POLICY email_domain_claims_tenant ON email_domain_claims
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE POLICY email_domain_claims_definer_read ON email_domain_claims FOR SELECT TO tenantkit_owner
    USING ((SELECT current_setting('tenantkit.cross_org_read', true)) = 'on');

-- tenantkit_verify_org_domain(domain): tenant-scoped (uses the caller's tenantkit.org_id).
-- Call it only after the domain's DNS proof succeeded. Marks the org's row verified and claims
-- the domain globally. Errors: 42501 when no org is active, P0002 when the org has no row for
-- the domain, TK005 when another org holds a verified claim. Idempotent for the current holder.
CREATE FUNCTION tenantkit_verify_org_domain(p_domain text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
SET tenantkit.cross_org_read = 'on'
AS $fn$
DECLARE
    v_org    uuid := nullif(current_setting('tenantkit.org_id', true), '')::uuid;
    v_domain text := lower(btrim(p_domain));
    v_holder uuid;
BEGIN
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'tenantkit.org_id is not set' USING ERRCODE = 'insufficient_privilege';
    END IF;

    -- Serialize every verification of this domain (all orgs) for the rest of the transaction.
    PERFORM pg_advisory_xact_lock(hashtextextended('tenantkit.email_domain:' || v_domain, 0));

    PERFORM 1 FROM org_email_domains
     WHERE org_id = v_org AND domain = v_domain
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'domain % is not registered for the active organization', v_domain
            USING ERRCODE = 'no_data_found';
    END IF;

    FOR attempt IN 1..3 LOOP
        INSERT INTO email_domain_claims (domain, org_id) VALUES (v_domain, v_org)
            ON CONFLICT (domain) DO NOTHING;
        SELECT c.org_id INTO v_holder FROM email_domain_claims c WHERE c.domain = v_domain;
        EXIT WHEN v_holder = v_org;

        IF EXISTS (SELECT 1 FROM org_email_domains d
                    WHERE d.org_id = v_holder AND d.domain = v_domain AND d.verified_at IS NOT NULL) THEN
            RAISE EXCEPTION 'domain % is already verified by another organization', v_domain
                USING ERRCODE = 'TK005';
        END IF;

        -- Stale claim: release it (as the holding org, for the RLS write check), then retry.
        PERFORM set_config('tenantkit.org_id', v_holder::text, true);
        DELETE FROM email_domain_claims c WHERE c.domain = v_domain AND c.org_id = v_holder;
        PERFORM set_config('tenantkit.org_id', v_org::text, true);
    END LOOP;

    IF v_holder IS DISTINCT FROM v_org THEN
        RAISE EXCEPTION 'could not claim domain %', v_domain USING ERRCODE = 'TK005';
    END IF;

    UPDATE org_email_domains
       SET verified_at = coalesce(verified_at, now())
     WHERE org_id = v_org AND domain = v_domain;
END
$fn$;

REVOKE ALL ON FUNCTION tenantkit_verify_org_domain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_verify_org_domain(text) TO tenantkit_app;

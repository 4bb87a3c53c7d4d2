SET LOCAL ROLE tenantkit_owner;

-- 0002_organizations: users (global), organizations (the tenants) and memberships.
--
-- Conventions used by every TenantKit migration (see docs/scaling.md for Citus):
--   * Tenant context: tenantkit.org_id / tenantkit.user_id / tenantkit.api_key_id, always set with
--     set_config(name, $1, true). Tenant policies read
--         org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid)
--     The scalar sub-select becomes an InitPlan (evaluated once per statement, index-friendly) and
--     yields NULL when the setting is missing or empty, so no row matches: closed by default.
--   * ENABLE + FORCE ROW LEVEL SECURITY on every table with an org_id column, so the policies also
--     bind tenantkit_owner (superusers bypass RLS by design).
--   * "<table>_definer_read" policies: SELECT-only, TO tenantkit_owner, and only while
--     tenantkit.cross_org_read = 'on'. Only the pre-tenant SECURITY DEFINER entry points
--     (0010_entry_points.sql) turn that on, through their own SET clause, which PostgreSQL
--     restores when the function returns. tenantkit_app is never affected by these policies
--     (they are not TO tenantkit_app), and writes always go through the org_id policies.
--   * Tenant tables lead primary keys, unique constraints, foreign keys and indexes with org_id;
--     ids are gen_random_uuid() (built in since PostgreSQL 13); no global sequences anywhere.

-- Functions created by tenantkit_owner in this database are not executable by PUBLIC by default;
-- every function below is additionally REVOKEd explicitly.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- users: global (a Citus reference table). No org_id, no RLS: sign-in looks users up by email
-- before any organization is active.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE users (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    email          text        NOT NULL,
    email_verified boolean     NOT NULL DEFAULT false,
    display_name   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_format CHECK (
        email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND octet_length(email) <= 320)
);
-- Case-insensitive uniqueness without citext. Look users up with WHERE lower(email) = lower($1).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- ---------------------------------------------------------------------------------------------
-- organizations: one row per tenant. Its key is "id" (the org id itself), so the policy compares
-- id with the setting: the app sees exactly the active organization. Rows are created only by
-- tenantkit_create_organization() (0010), which also makes the creator an admin and opens the
-- organization's ECU account.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE organizations (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    name       text        NOT NULL,
    settings   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_pkey PRIMARY KEY (id),
    CONSTRAINT organizations_name_check CHECK (btrim(name) <> '' AND char_length(name) <= 200),
    CONSTRAINT organizations_settings_object CHECK (jsonb_typeof(settings) = 'object')
);

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;

CREATE POLICY organizations_tenant ON organizations
    USING (id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE POLICY organizations_definer_read ON organizations FOR SELECT TO tenantkit_owner
    USING ((SELECT current_setting('tenantkit.cross_org_read', true)) = 'on');

-- ---------------------------------------------------------------------------------------------
-- memberships: (org, user, role). Roles: admin, member, viewer.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE memberships (
    org_id     uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    user_id    uuid        NOT NULL,
    role       text        NOT NULL DEFAULT 'member',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (org_id, user_id),
    CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'member', 'viewer')),
    CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    -- FKs to global (reference) tables cannot carry org_id; Citus allows distributed -> reference.
    CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);
-- Deliberate exception to "indexes lead with org_id": the org switcher
-- (tenantkit_user_organizations) and auto-join look memberships up by user across orgs.
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;

CREATE POLICY memberships_tenant ON memberships
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE POLICY memberships_definer_read ON memberships FOR SELECT TO tenantkit_owner
    USING ((SELECT current_setting('tenantkit.cross_org_read', true)) = 'on');

-- ---------------------------------------------------------------------------------------------
-- Grants for the application role (nothing for PUBLIC). No TRUNCATE anywhere.
-- ---------------------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON users TO tenantkit_app;
GRANT SELECT ON organizations TO tenantkit_app;
GRANT UPDATE (name, settings) ON organizations TO tenantkit_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO tenantkit_app;

-- 0001_roles: the two TenantKit roles and the schema grants they need.
--
-- Roles are cluster-global while this file runs once per database, possibly in several
-- databases of one cluster at the same time. Creation is therefore idempotent (pg_roles check)
-- and race-safe (a concurrent CREATE ROLE that wins the race surfaces here as duplicate_object
-- or as unique_violation on pg_authid's name index; both are swallowed). No passwords here:
-- operators set them out of band (ALTER ROLE ... PASSWORD, or certificate / peer auth).
--
-- Role attributes are never ALTERed here (a concurrent ALTER ROLE from another database could
-- fail with "tuple concurrently updated"); instead the file refuses to continue when an existing
-- tenantkit_app could bypass row-level security.
--
-- Runs as a superuser (tests, first install) or as tenantkit_owner (production, roles created
-- beforehand by an operator running this same file as a superuser).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_owner') THEN
        BEGIN
            CREATE ROLE tenantkit_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created concurrently by a migration of another database
        END;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_app') THEN
        BEGIN
            CREATE ROLE tenantkit_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;

    -- The pre-tenant entry points (0004, 0010) switch on their cross-org read policies with
    -- `SET tenantkit.cross_org_read = 'on'` in the function definition, which PostgreSQL 15 and
    -- later only allow a non-superuser owner with this (cluster-global) grant. Two databases may
    -- grant it at the same time; the loser of that race finds the grant made.
    IF current_setting('server_version_num')::int >= 150000 THEN
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_parameter_acl p, pg_catalog.aclexplode(p.paracl) a
                           WHERE p.parname = 'tenantkit.cross_org_read' AND a.privilege_type = 'SET'
                             AND a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_owner')) THEN
                EXECUTE 'GRANT SET ON PARAMETER tenantkit.cross_org_read TO tenantkit_owner';
            END IF;
        -- unique_violation / internal_error ("tuple concurrently updated"): granted concurrently.
        -- insufficient_privilege: not a superuser; an operator must have run this file as one.
        EXCEPTION WHEN unique_violation OR internal_error OR insufficient_privilege THEN
            NULL;
        END;
    END IF;

    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
               WHERE rolname = 'tenantkit_app' AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role tenantkit_app must be NOSUPERUSER NOBYPASSRLS'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'ALTER ROLE tenantkit_app NOSUPERUSER NOBYPASSRLS;';
    END IF;
END
$roles$;

-- Schema privileges (per database). PostgreSQL 15 no longer grants CREATE on public to PUBLIC.
-- A GRANT is only attempted when the privilege is missing and the current user can grant it,
-- so tenantkit_owner can run this file in production without grant options once an operator
-- (or database ownership) has provided the privileges.
DO $schema$
BEGIN
    -- (has_schema_privilege with a list is true when ANY of them is held, hence one call each.)
    IF NOT (pg_catalog.has_schema_privilege('tenantkit_owner', 'public', 'USAGE')
            AND pg_catalog.has_schema_privilege('tenantkit_owner', 'public', 'CREATE')) THEN
        IF pg_catalog.has_schema_privilege(current_user, 'public', 'USAGE WITH GRANT OPTION')
           AND pg_catalog.has_schema_privilege(current_user, 'public', 'CREATE WITH GRANT OPTION') THEN
            GRANT USAGE, CREATE ON SCHEMA public TO tenantkit_owner;
        ELSE
            RAISE EXCEPTION 'tenantkit_owner lacks USAGE, CREATE on schema public and % cannot grant it', current_user
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Run 0001_roles.sql once as a superuser (or the database owner) in this database.';
        END IF;
    END IF;

    -- tenantkit_app only resolves names in public (no CREATE). Granted explicitly, not left to the
    -- PUBLIC default, so revoking USAGE from PUBLIC (a common hardening step) does not break the app.
    IF NOT EXISTS (SELECT 1
                   FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
                   WHERE n.nspname = 'public'
                     AND a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'tenantkit_app')
                     AND a.privilege_type = 'USAGE') THEN
        IF pg_catalog.has_schema_privilege(current_user, 'public', 'USAGE WITH GRANT OPTION') THEN
            GRANT USAGE ON SCHEMA public TO tenantkit_app;
        ELSIF NOT pg_catalog.has_schema_privilege('tenantkit_app', 'public', 'USAGE') THEN
            RAISE EXCEPTION 'tenantkit_app lacks USAGE on schema public and % cannot grant it', current_user
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Run 0001_roles.sql once as a superuser (or the database owner) in this database.';
        END IF;
    END IF;

    -- `tenantkit doctor` runs as tenantkit_app and reports pending migrations, so the app may read
    -- the runner's bookkeeping (created by the runner, as the role it connects with, before this file).
    IF to_regclass('public.schema_migrations') IS NOT NULL
       AND NOT pg_catalog.has_table_privilege('tenantkit_app', 'public.schema_migrations', 'SELECT') THEN
        GRANT SELECT ON public.schema_migrations TO tenantkit_app;
    END IF;
END
$schema$;

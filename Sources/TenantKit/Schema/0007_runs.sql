SET LOCAL ROLE tenantkit_owner;

-- 0007_runs: executions of a catalog item, billed to the active org's ECU account.
-- Exactly who started it: a user (user_id) and/or an API key (api_key_id); at least one.
-- Both default from the tenant context (tenantkit.user_id / tenantkit.api_key_id).
CREATE TABLE runs (
    org_id          uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    catalog_item_id uuid        NOT NULL,
    user_id         uuid        DEFAULT nullif(current_setting('tenantkit.user_id', true), '')::uuid,
    api_key_id      uuid        DEFAULT nullif(current_setting('tenantkit.api_key_id', true), '')::uuid,
    cost            bigint      NOT NULL DEFAULT 0,
    status          text        NOT NULL DEFAULT 'queued',
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    CONSTRAINT runs_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT runs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT runs_cost_check CHECK (cost >= 0),
    CONSTRAINT runs_actor_check CHECK (user_id IS NOT NULL OR api_key_id IS NOT NULL),
    CONSTRAINT runs_timestamps_check CHECK (
        finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at),
    CONSTRAINT runs_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    -- catalog_items is global/hybrid (a reference table on Citus), so this FK cannot carry org_id;
    -- runs_catalog_item_visible (below) adds "public or this org's own item".
    CONSTRAINT runs_catalog_item_id_fkey FOREIGN KEY (catalog_item_id)
        REFERENCES catalog_items (id),
    CONSTRAINT runs_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id),
    CONSTRAINT runs_api_key_fkey FOREIGN KEY (org_id, api_key_id)
        REFERENCES api_keys (org_id, id)
);
CREATE INDEX runs_org_created_idx ON runs (org_id, created_at);
CREATE INDEX runs_org_status_idx ON runs (org_id, status, created_at);
CREATE INDEX runs_org_catalog_item_idx ON runs (org_id, catalog_item_id, created_at);
CREATE INDEX runs_org_api_key_idx ON runs (org_id, api_key_id) WHERE api_key_id IS NOT NULL;
-- Deliberate exception to "indexes lead with org_id": the foreign key to catalog_items (a hybrid
-- table) is checked by catalog item id alone, so deleting an item must not scan every run.
CREATE INDEX runs_catalog_item_fk_idx ON runs (catalog_item_id);

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;

CREATE POLICY runs_tenant ON runs
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

-- A run may only use a public catalog item or one of its own org's private items. (The FK check
-- itself bypasses RLS, so without this an org could reference another org's private item id.)
-- SECURITY INVOKER: it runs with the caller's RLS, and the explicit predicate keeps it correct for
-- roles that bypass RLS too.
CREATE FUNCTION tenantkit_runs_check_catalog_item()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM catalog_items c
                    WHERE c.id = NEW.catalog_item_id
                      AND (c.org_id IS NULL OR c.org_id = NEW.org_id)) THEN
        RAISE EXCEPTION 'catalog item % is not available to organization %', NEW.catalog_item_id, NEW.org_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'runs_catalog_item_id_fkey';
    END IF;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit_runs_check_catalog_item() FROM PUBLIC;

CREATE TRIGGER runs_catalog_item_visible
    BEFORE INSERT OR UPDATE OF org_id, catalog_item_id ON runs
    FOR EACH ROW EXECUTE FUNCTION tenantkit_runs_check_catalog_item();

-- Runs are history: no DELETE for the application.
GRANT SELECT, INSERT, UPDATE ON runs TO tenantkit_app;

SET LOCAL ROLE tenantkit_owner;

-- 0005_catalog: catalog items. org_id IS NULL is the public catalog (visible to every org);
-- otherwise the item is private to its org.
--
-- Because org_id is nullable, the primary key is (id) alone and cannot lead with org_id. This is
-- the one hybrid table: on Citus it is a reference table (see docs/scaling.md). Slugs are unique
-- within an org (org_id, slug) and, separately, unique among public items (partial index).
-- A private item may reuse a public item's slug (it shadows it in that org's views).
CREATE TABLE catalog_items (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    org_id     uuid        DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    kind       text        NOT NULL,
    slug       text        NOT NULL,
    name       text        NOT NULL,
    metadata   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT catalog_items_pkey PRIMARY KEY (id),
    CONSTRAINT catalog_items_org_slug_key UNIQUE (org_id, slug),
    CONSTRAINT catalog_items_kind_format CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT catalog_items_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9_.-]{0,127}$'),
    CONSTRAINT catalog_items_name_check CHECK (btrim(name) <> '' AND char_length(name) <= 200),
    CONSTRAINT catalog_items_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    CONSTRAINT catalog_items_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX catalog_items_public_slug_key ON catalog_items (slug) WHERE org_id IS NULL;
CREATE INDEX catalog_items_org_kind_idx ON catalog_items (org_id, kind, slug);

ALTER TABLE catalog_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_items FORCE ROW LEVEL SECURITY;

-- Reads: the public catalog plus the active org's private items.
CREATE POLICY catalog_items_read ON catalog_items FOR SELECT
    USING (org_id IS NULL
           OR org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

-- Writes: only the active org's own rows (a NULL org_id never passes, so the app cannot touch
-- the public catalog).
CREATE POLICY catalog_items_insert ON catalog_items FOR INSERT
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
CREATE POLICY catalog_items_update ON catalog_items FOR UPDATE
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));
CREATE POLICY catalog_items_delete ON catalog_items FOR DELETE
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

-- The operator curates the public catalog as tenantkit_owner (e.g. the `tenantkit db` CLI or a
-- seed migration); FORCE RLS would otherwise block the owner from writing org_id IS NULL rows.
-- This policy never applies to tenantkit_app.
CREATE POLICY catalog_items_public_curation ON catalog_items TO tenantkit_owner
    USING (org_id IS NULL)
    WITH CHECK (org_id IS NULL);

GRANT SELECT, INSERT, UPDATE, DELETE ON catalog_items TO tenantkit_app;

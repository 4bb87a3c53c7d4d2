SET LOCAL ROLE tenantkit_owner;

-- 0022_public_catalog_table: the public catalog moves to a table of its own, so that on Citus it
-- is a reference table while the organizations' private items are distributed by org_id with the
-- rest of their data (docs/scaling.md). Until now one table held both, which forced Citus to copy
-- every organization's private items to every node.
--
-- catalog_items keeps the private items (org_id NOT NULL now). public_catalog_items has no org_id
-- at all: it is global, read by every organization and written only by its owner (the operator).
-- The builder reads the two as one (TableScoping.mixedCatalog): a scoped read is the org's rows
-- UNION ALL the public ones, a write touches the org's rows only.

CREATE TABLE public_catalog_items (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    kind       text        NOT NULL,
    slug       text        NOT NULL,
    name       text        NOT NULL,
    metadata   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT public_catalog_items_pkey PRIMARY KEY (id),
    CONSTRAINT public_catalog_items_slug_key UNIQUE (slug),
    CONSTRAINT public_catalog_items_kind_format CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT public_catalog_items_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9_.-]{0,127}$'),
    CONSTRAINT public_catalog_items_name_check CHECK (btrim(name) <> '' AND char_length(name) <= 200),
    CONSTRAINT public_catalog_items_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX public_catalog_items_kind_idx ON public_catalog_items (kind, slug);
-- The catalog page's (name, id) order.
CREATE INDEX public_catalog_items_name_idx ON public_catalog_items (name, id);
-- Every organization may read it; only the owner writes it.
GRANT SELECT ON public_catalog_items TO tenantkit_app;

INSERT INTO public_catalog_items (id, kind, slug, name, metadata, created_at, updated_at)
    SELECT id, kind, slug, name, metadata, created_at, updated_at FROM catalog_items WHERE org_id IS NULL;

-- runs: the item a run uses is checked by two real foreign keys instead of a trigger that read
-- catalog_items, which Citus cannot do from a runs shard once private items are distributed. The
-- trigger below copies catalog_item_id into the column of its kind: public_catalog_item_id (a key
-- to the public catalog) or private_catalog_item_id (a key to (org_id, id) of catalog_items, so
-- "this organization's own item" holds by construction). It reads only the public catalog, which
-- is a reference table on Citus, so every node has it.
DROP TRIGGER runs_catalog_item_visible ON runs;
DROP FUNCTION tenantkit_runs_check_catalog_item();
ALTER TABLE runs DROP CONSTRAINT runs_catalog_item_id_fkey;
DROP INDEX runs_catalog_item_fk_idx;
ALTER TABLE runs ADD COLUMN public_catalog_item_id uuid, ADD COLUMN private_catalog_item_id uuid;

CREATE FUNCTION tenantkit_runs_name_catalog_item()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;
REVOKE ALL ON FUNCTION tenantkit_runs_name_catalog_item() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_runs_name_catalog_item() TO tenantkit_app;
CREATE TRIGGER runs_name_catalog_item
    BEFORE INSERT OR UPDATE OF catalog_item_id, public_catalog_item_id, private_catalog_item_id ON runs
    FOR EACH ROW EXECUTE FUNCTION tenantkit_runs_name_catalog_item();

-- The existing runs get their column through the trigger.
UPDATE runs SET catalog_item_id = catalog_item_id;
-- Whatever writes a run, the two columns name its item exactly once.
ALTER TABLE runs ADD CONSTRAINT runs_one_catalog_item CHECK (
    num_nonnulls(public_catalog_item_id, private_catalog_item_id) = 1
    AND catalog_item_id = coalesce(private_catalog_item_id, public_catalog_item_id));

DELETE FROM catalog_items WHERE org_id IS NULL;
DROP POLICY catalog_items_read ON catalog_items;
DROP INDEX catalog_items_public_slug_key;
DROP INDEX catalog_items_public_name_idx;
ALTER TABLE catalog_items ALTER COLUMN org_id SET NOT NULL;
-- A distributed table's unique keys include its distribution column.
ALTER TABLE catalog_items DROP CONSTRAINT catalog_items_pkey;
ALTER TABLE catalog_items ADD CONSTRAINT catalog_items_pkey PRIMARY KEY (org_id, id);
CREATE POLICY catalog_items_read ON catalog_items FOR SELECT TO tenantkit_app
    USING (org_id = (SELECT tenantkit.current_org()));

ALTER TABLE runs ADD CONSTRAINT runs_public_catalog_item_fkey FOREIGN KEY (public_catalog_item_id)
    REFERENCES public_catalog_items (id);
ALTER TABLE runs ADD CONSTRAINT runs_private_catalog_item_fkey FOREIGN KEY (org_id, private_catalog_item_id)
    REFERENCES catalog_items (org_id, id);
-- Deleting a public item checks its runs by the item alone, across organizations.
CREATE INDEX runs_public_catalog_item_idx ON runs (public_catalog_item_id) WHERE public_catalog_item_id IS NOT NULL;
CREATE INDEX runs_private_catalog_item_idx ON runs (org_id, private_catalog_item_id) WHERE private_catalog_item_id IS NOT NULL;

-- Item ids stay unique across the two tables and fixed: the runs trigger above finds an item's
-- kind by its id, so a private item under a public item's id (an injection may choose ids) would
-- file the org's runs of it as public ones. (Column privileges would say it more simply, but
-- Citus does not give them to the shards.)
CREATE FUNCTION tenantkit_catalog_items_keep_ids()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
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
$fn$;
REVOKE ALL ON FUNCTION tenantkit_catalog_items_keep_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenantkit_catalog_items_keep_ids() TO tenantkit_app;
CREATE TRIGGER catalog_items_keep_ids
    BEFORE INSERT OR UPDATE OF id ON catalog_items
    FOR EACH ROW EXECUTE FUNCTION tenantkit_catalog_items_keep_ids();

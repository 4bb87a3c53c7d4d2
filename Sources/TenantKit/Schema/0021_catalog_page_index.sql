SET LOCAL ROLE tenantkit_owner;

-- 0021_catalog_page_index: the catalog page reads the public items and the organization's own as
-- two index scans in (name, id) order, each stopping after a page (Select.splittingPublicAndOwnRows),
-- instead of sorting every item either side has. Two indexes, because only an equality on org_id
-- lets the planner read (org_id, name, id) in (name, id) order; org_id IS NULL is not one.
CREATE INDEX catalog_items_public_name_idx ON catalog_items (name, id) WHERE org_id IS NULL;
CREATE INDEX catalog_items_org_name_idx ON catalog_items (org_id, name, id);

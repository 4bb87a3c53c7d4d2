SET LOCAL ROLE tenantkit_owner;

-- 0021_catalog_page: the catalog page reads the public items and the organization's own as two
-- index scans in key order, each stopping after a page (Select.splittingPublicAndOwnRows), instead
-- of sorting every item either side has.
--
-- Two indexes for the (name, id) order of CatalogRepository.page: only an equality on org_id lets
-- the planner read (org_id, name, id) in (name, id) order, and org_id IS NULL is not one.
CREATE INDEX catalog_items_public_name_idx ON catalog_items (name, id) WHERE org_id IS NULL;
CREATE INDEX catalog_items_org_name_idx ON catalog_items (org_id, name, id);

-- The read policy as a CASE rather than an OR, with the same rows visible. The planner splits a
-- policy's OR into a bitmap scan of each arm, so each half of the page became a BitmapOr and a
-- sort of everything it matched; a CASE is a filter on the ordered scan. The public half never
-- reaches the ELSE, so its verification (the InitPlan) never runs: one per page.
ALTER POLICY catalog_items_read ON catalog_items
    USING (CASE WHEN org_id IS NULL THEN true ELSE org_id = (SELECT tenantkit.current_org()) END);

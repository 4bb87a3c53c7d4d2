SET LOCAL ROLE tenantkit_owner;

-- 0006_api_keys: per-org API keys. The secret is shown once and never stored:
-- key_hash = sha256(convert_to(full_key_text, 'UTF8')) (32 bytes); prefix is a short visible part
-- of the key (e.g. "tk_3f9a1c") so users can tell keys apart. A revoked key (revoked_at set)
-- no longer authenticates. Authentication is pre-tenant: tenantkit_lookup_api_key(key_hash)
-- (0010) returns the key's org and id and stamps last_used_at.
CREATE TABLE api_keys (
    org_id       uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    name         text        NOT NULL,
    prefix       text        NOT NULL,
    key_hash     bytea       NOT NULL,
    created_by   uuid        DEFAULT nullif(current_setting('tenantkit.user_id', true), '')::uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (org_id, key_hash),
    CONSTRAINT api_keys_name_check CHECK (btrim(name) <> '' AND char_length(name) <= 200),
    CONSTRAINT api_keys_prefix_check CHECK (char_length(prefix) BETWEEN 1 AND 32),
    CONSTRAINT api_keys_key_hash_sha256 CHECK (octet_length(key_hash) = 32),
    CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES users (id) ON DELETE SET NULL
);
-- Deliberate exception to "indexes lead with org_id": authentication finds a key by its hash
-- before the org is known (a fan-out lookup on Citus). Not UNIQUE on purpose: a global unique
-- index cannot exist on a table distributed by org_id; sha256 of random secrets does not collide.
CREATE INDEX api_keys_key_hash_idx ON api_keys (key_hash) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_org_created_idx ON api_keys (org_id, created_at);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;

CREATE POLICY api_keys_tenant ON api_keys
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE POLICY api_keys_definer_read ON api_keys FOR SELECT TO tenantkit_owner
    USING ((SELECT current_setting('tenantkit.cross_org_read', true)) = 'on');

-- Keys are revoked (UPDATE revoked_at), never deleted: runs reference them.
GRANT SELECT, INSERT, UPDATE ON api_keys TO tenantkit_app;

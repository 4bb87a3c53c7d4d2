SET LOCAL ROLE tenantkit_owner;

-- 0008_ecu_credits: one ECU credit account per org and its ledger.
--
-- The balance only ever changes through the ledger: the application may INSERT ledger rows but has
-- no UPDATE on accounts. A BEFORE INSERT trigger on ecu_ledger (SECURITY DEFINER) then, per row:
--   1. creates the org's account if missing (balance 0) and locks it (SELECT ... FOR UPDATE), which
--      serializes all postings of one org;
--   2. if the org already has a ledger row with the same idempotency_key, skips the row silently
--      (the INSERT affects 0 rows and RETURNING yields nothing, with or without
--      ON CONFLICT (org_id, idempotency_key) DO NOTHING) and leaves the balance untouched;
--   3. rejects an overdraft with SQLSTATE 23514 (check_violation), constraint
--      ecu_accounts_balance_check;
--   4. applies the amount to the account and stores the resulting balance in balance_after.
-- Credits are positive amounts, charges negative. Under REPEATABLE READ / SERIALIZABLE a concurrent
-- posting to the same org fails with 40001 (retry); under READ COMMITTED it waits.
CREATE TABLE ecu_accounts (
    org_id     uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    balance    bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ecu_accounts_pkey PRIMARY KEY (org_id),
    CONSTRAINT ecu_accounts_balance_check CHECK (balance >= 0),
    CONSTRAINT ecu_accounts_org_id_fkey FOREIGN KEY (org_id)
        REFERENCES organizations (id) ON DELETE CASCADE
);

ALTER TABLE ecu_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE ecu_accounts FORCE ROW LEVEL SECURITY;

CREATE POLICY ecu_accounts_tenant ON ecu_accounts
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE TABLE ecu_ledger (
    org_id          uuid        NOT NULL DEFAULT nullif(current_setting('tenantkit.org_id', true), '')::uuid,
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    amount          bigint      NOT NULL,
    reason          text        NOT NULL,
    idempotency_key text        NOT NULL,
    balance_after   bigint      NOT NULL DEFAULT 0, -- always computed by the trigger
    run_id          uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ecu_ledger_pkey PRIMARY KEY (org_id, id),
    CONSTRAINT ecu_ledger_idempotency_key_key UNIQUE (org_id, idempotency_key),
    CONSTRAINT ecu_ledger_amount_check CHECK (amount <> 0),
    CONSTRAINT ecu_ledger_reason_check CHECK (btrim(reason) <> '' AND char_length(reason) <= 200),
    CONSTRAINT ecu_ledger_idempotency_key_check CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    CONSTRAINT ecu_ledger_balance_after_check CHECK (balance_after >= 0),
    CONSTRAINT ecu_ledger_account_fkey FOREIGN KEY (org_id)
        REFERENCES ecu_accounts (org_id) ON DELETE CASCADE,
    CONSTRAINT ecu_ledger_run_fkey FOREIGN KEY (org_id, run_id)
        REFERENCES runs (org_id, id)
);
CREATE INDEX ecu_ledger_org_created_idx ON ecu_ledger (org_id, created_at);
CREATE INDEX ecu_ledger_org_run_idx ON ecu_ledger (org_id, run_id) WHERE run_id IS NOT NULL;

ALTER TABLE ecu_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE ecu_ledger FORCE ROW LEVEL SECURITY;

CREATE POLICY ecu_ledger_tenant ON ecu_ledger
    USING (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid))
    WITH CHECK (org_id = (SELECT nullif(current_setting('tenantkit.org_id', true), '')::uuid));

CREATE FUNCTION tenantkit_ecu_ledger_before_insert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_context text := current_setting('tenantkit.org_id', true);
    v_balance bigint;
BEGIN
    IF NEW.org_id IS NULL THEN
        RAISE EXCEPTION 'null value in column "org_id" of relation "ecu_ledger"'
            USING ERRCODE = 'not_null_violation', COLUMN = 'org_id', TABLE = 'ecu_ledger';
    END IF;
    -- The definer runs under the same org policies: it may only act for the active org. (No org
    -- set at all is left to the table's own policy, which rejects it for everyone but superusers.)
    IF coalesce(v_context, '') <> '' AND v_context::uuid IS DISTINCT FROM NEW.org_id THEN
        RAISE EXCEPTION 'new row violates row-level security policy for table "ecu_ledger"'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('tenantkit.org_id', NEW.org_id::text, true);

    INSERT INTO ecu_accounts (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT a.balance INTO STRICT v_balance
      FROM ecu_accounts a WHERE a.org_id = NEW.org_id
       FOR UPDATE;

    IF EXISTS (SELECT 1 FROM ecu_ledger l
                WHERE l.org_id = NEW.org_id AND l.idempotency_key = NEW.idempotency_key) THEN
        PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);
        RETURN NULL; -- already posted: idempotent no-op
    END IF;

    IF v_balance + NEW.amount < 0 THEN
        RAISE EXCEPTION 'insufficient ECU balance: balance %, amount %', v_balance, NEW.amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ecu_accounts_balance_check',
                  TABLE = 'ecu_accounts';
    END IF;

    UPDATE ecu_accounts
       SET balance = v_balance + NEW.amount, updated_at = now()
     WHERE org_id = NEW.org_id;
    NEW.balance_after := v_balance + NEW.amount;

    PERFORM set_config('tenantkit.org_id', coalesce(v_context, ''), true);
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION tenantkit_ecu_ledger_before_insert() FROM PUBLIC;

CREATE TRIGGER ecu_ledger_post
    BEFORE INSERT ON ecu_ledger
    FOR EACH ROW EXECUTE FUNCTION tenantkit_ecu_ledger_before_insert();

-- Ledger rows are immutable for the application; balances change only through the ledger.
GRANT SELECT ON ecu_accounts TO tenantkit_app;
GRANT SELECT, INSERT ON ecu_ledger TO tenantkit_app;

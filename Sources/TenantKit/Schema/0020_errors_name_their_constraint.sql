SET LOCAL ROLE tenantkit_owner;

-- 0020_errors_name_their_constraint: a Citus coordinator relays a worker's error with its SQLSTATE,
-- message, detail, hint and context only, never the constraint or table. TenantKit recognizes its
-- rules by SQLSTATE and the constraint's name, which PostgreSQL's own messages always contain; the
-- overdraft RAISE of the ledger trigger now names its constraint in the message too. Unchanged
-- otherwise (0014).
CREATE OR REPLACE FUNCTION tenantkit_ecu_ledger_before_insert()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_balance bigint;
BEGIN
    IF NEW.org_id IS NULL THEN
        RAISE EXCEPTION 'null value in column "org_id" of relation "ecu_ledger"'
            USING ERRCODE = 'not_null_violation', COLUMN = 'org_id', TABLE = 'ecu_ledger';
    END IF;
    INSERT INTO public.ecu_accounts (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT a.balance INTO STRICT v_balance FROM public.ecu_accounts a WHERE a.org_id = NEW.org_id FOR UPDATE;

    IF EXISTS (SELECT 1 FROM public.ecu_ledger l
                WHERE l.org_id = NEW.org_id AND l.idempotency_key = NEW.idempotency_key) THEN
        RETURN NULL;  -- already posted: idempotent no-op
    END IF;
    IF v_balance + NEW.amount < 0 THEN
        RAISE EXCEPTION 'insufficient ECU balance: balance %, amount % (violates check constraint "ecu_accounts_balance_check")',
                v_balance, NEW.amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ecu_accounts_balance_check', TABLE = 'ecu_accounts';
    END IF;
    UPDATE public.ecu_accounts SET balance = v_balance + NEW.amount, updated_at = now() WHERE org_id = NEW.org_id;
    NEW.balance_after := v_balance + NEW.amount;
    RETURN NEW;
END
$fn$;

-- 008_adjustments.sql: charges that belong to no single outcome (issue 4):
-- a plan's complaint penalty (credited to the bank per complaint) and its
-- monthly minimum commitment (the shortfall charged when the month's
-- verified results fall short). Each is posted to the ledger and goes on
-- the tenant's invoice for its period as a line of its own. See
-- docs/billing.md. Forward-only. (007 is broadcast offers.)

CREATE TABLE billing_adjustments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL
                  CHECK (kind IN ('complaint_penalty', 'monthly_minimum')),
    tenant_id     token NOT NULL REFERENCES tenants (id),
    operator_id   token NOT NULL REFERENCES operators (id),
    contract_id   token NOT NULL,
    plan_version  int NOT NULL,
    case_id       bigint REFERENCES cases (id),
    dispute_id    bigint UNIQUE REFERENCES case_disputes (id),
    period        char(7) NOT NULL
                  CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor  bigint NOT NULL,
    description   text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (contract_id, plan_version)
        REFERENCES contract_plans (contract_id, version),
    -- A penalty is a credit tied to its complaint; a minimum is a charge
    -- tied to its month.
    CHECK ((kind = 'complaint_penalty') = (dispute_id IS NOT NULL)),
    CHECK ((kind = 'complaint_penalty') = (case_id IS NOT NULL)),
    CHECK (CASE kind WHEN 'complaint_penalty' THEN amount_minor < 0
                     ELSE amount_minor > 0 END)
);
-- One minimum top-up per contract and month.
CREATE UNIQUE INDEX billing_adjustments_minimum
    ON billing_adjustments (contract_id, period)
    WHERE kind = 'monthly_minimum';
CREATE INDEX billing_adjustments_period
    ON billing_adjustments (tenant_id, period);

CREATE FUNCTION billing_adjustments_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing adjustment % is posted and cannot change',
                    OLD.id USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER billing_adjustments_immutable
    BEFORE UPDATE OR DELETE ON billing_adjustments
    FOR EACH ROW EXECUTE FUNCTION billing_adjustments_immutable();

-- An invoice line is either a billable line (an outcome) or an adjustment.
-- The trace columns of an outcome stay NULL for an adjustment; the signed
-- document shows them as 0 and "".
ALTER TABLE invoice_lines
    ALTER COLUMN billable_line_id DROP NOT NULL,
    ALTER COLUMN outcome_id DROP NOT NULL,
    ALTER COLUMN case_id DROP NOT NULL,
    ALTER COLUMN case_external_id DROP NOT NULL,
    ALTER COLUMN task_id DROP NOT NULL,
    ALTER COLUMN worker_id DROP NOT NULL,
    ADD COLUMN adjustment_id bigint REFERENCES billing_adjustments (id),
    ADD CHECK ((billable_line_id IS NULL) <> (adjustment_id IS NULL)),
    ADD UNIQUE (kind, adjustment_id);

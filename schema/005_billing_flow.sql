-- 005_billing_flow.sql: the pay-per-result flow (issue 4): price plans as
-- versioned, effective-dated documents; the plan pinned to each case;
-- billable outcomes that move pending -> verified -> reversed; reopens and
-- complaints; each outcome's split across its contributors. See
-- docs/billing.md and docs/ledger.md. Forward-only.

-- A contract's price plan, one row per version. plan is the rating.c
-- document (docs/ledger.md); the window lengths and the split weights sit
-- beside it because rating.c does not read them. Versions are immutable:
-- a new price is a new version with a later effective_from.
CREATE TABLE contract_plans (
    contract_id       token NOT NULL REFERENCES contracts (id),
    version           int NOT NULL CHECK (version > 0),
    effective_from    timestamptz NOT NULL,
    plan              jsonb NOT NULL CHECK (jsonb_typeof(plan) = 'object'),
    verification_s    bigint NOT NULL DEFAULT 0
                      CHECK (verification_s BETWEEN 0 AND 31622400),
    clawback_s        bigint NOT NULL DEFAULT 0
                      CHECK (clawback_s BETWEEN 0 AND 63244800),
    platform_fee_bps  int NOT NULL DEFAULT 0
                      CHECK (platform_fee_bps BETWEEN 0 AND 10000),
    operator_weight   int NOT NULL DEFAULT 1 CHECK (operator_weight >= 0),
    worker_weight     int NOT NULL DEFAULT 0 CHECK (worker_weight >= 0),
    ai_weight         int NOT NULL DEFAULT 0 CHECK (ai_weight >= 0),
    ai_party          token,           -- the AI worker paid the ai share
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, version),
    UNIQUE (contract_id, effective_from),
    CHECK (clawback_s >= verification_s),
    CHECK (operator_weight + worker_weight + ai_weight > 0),
    CHECK (ai_weight = 0 OR ai_party IS NOT NULL)
);

CREATE FUNCTION contract_plans_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'price plan %/% is immutable: add a new version with a '
                    'later effective_from', OLD.contract_id, OLD.version
        USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER contract_plans_immutable
    BEFORE UPDATE OR DELETE ON contract_plans
    FOR EACH ROW EXECUTE FUNCTION contract_plans_immutable();

-- The plan version a case is billed under: the version in effect when the
-- case was submitted (cases.created_at), recorded by the billing service
-- when it rates the case's first outcome, and never changed afterwards.
CREATE TABLE case_plans (
    case_id      bigint PRIMARY KEY REFERENCES cases (id),
    contract_id  token NOT NULL,
    version      int NOT NULL,
    pinned_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (contract_id, version)
        REFERENCES contract_plans (contract_id, version)
);

-- A reopen or complaint filed by the bank (the case.reopen and
-- case.complaint requests). idem_key makes a repeated request return the
-- same row. processed_at is set by the billing service once it has
-- reversed what the dispute claws back.
CREATE TABLE case_disputes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id),
    tenant_id     token NOT NULL REFERENCES tenants (id),
    kind          text NOT NULL CHECK (kind IN ('reopen', 'complaint')),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    idem_key      text NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 128),
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    UNIQUE (case_id, kind, idem_key)
);
CREATE INDEX case_disputes_open ON case_disputes (id)
    WHERE processed_at IS NULL;
CREATE INDEX case_disputes_case ON case_disputes (case_id);

-- One row per outcome rated under a price plan, beside its billable line.
CREATE TABLE billable_outcomes (
    outcome_id        bigint PRIMARY KEY REFERENCES outcomes (id),
    billable_line_id  bigint NOT NULL UNIQUE REFERENCES billable_lines (id),
    tenant_id         token NOT NULL REFERENCES tenants (id),
    operator_id       token NOT NULL REFERENCES operators (id),
    contract_id       token NOT NULL,
    plan_version      int NOT NULL,
    case_id           bigint NOT NULL REFERENCES cases (id),
    worker_id         token NOT NULL REFERENCES workers (id),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor      bigint NOT NULL CHECK (amount_minor >= 0),
    base_minor        bigint NOT NULL DEFAULT 0,  -- the percent field's amount
    percent_minor     bigint NOT NULL DEFAULT 0,  -- of amount, the percent part
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'verified', 'reversed')),
    outcome_at        timestamptz NOT NULL,
    verify_after      timestamptz NOT NULL,
    clawback_until    timestamptz NOT NULL,
    verified_at       timestamptz,
    reversed_at       timestamptz,
    reversed_by       bigint REFERENCES case_disputes (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (contract_id, plan_version)
        REFERENCES contract_plans (contract_id, version),
    CHECK (clawback_until >= verify_after),
    CHECK ((state = 'reversed') = (reversed_at IS NOT NULL))
);
CREATE INDEX billable_outcomes_due ON billable_outcomes (verify_after)
    WHERE state = 'pending';
CREATE INDEX billable_outcomes_case ON billable_outcomes (case_id);
CREATE INDEX billable_outcomes_month ON billable_outcomes
    (contract_id, plan_version, outcome_at);

-- An outcome's price split: platform fee, operator margin, the human
-- worker's and the AI worker's shares. They sum to amount_minor exactly.
CREATE TABLE outcome_splits (
    outcome_id    bigint NOT NULL REFERENCES billable_outcomes (outcome_id),
    role          text NOT NULL
                  CHECK (role IN ('platform', 'operator', 'worker', 'ai_worker')),
    party         token NOT NULL,
    amount_minor  bigint NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (outcome_id, role)
);

-- The sweeper's query: billable outcomes without a line.
CREATE INDEX outcomes_billable ON outcomes (id) WHERE billable;

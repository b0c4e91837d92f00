-- The monthly-minimum top-up of contract $3 for tenant $1, period $5.
INSERT INTO billing_adjustments (kind, tenant_id, operator_id, contract_id,
    plan_version, period, currency, amount_minor, description)
VALUES ('monthly_minimum', $1, $2, $3, $4::int, $5, $6, $7::bigint, $8)

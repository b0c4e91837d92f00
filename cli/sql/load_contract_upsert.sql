-- twinline load: contract $1 with its invoicing terms ($7 payment terms in
-- days; tax $8 name or NULL, $9 rate in bps, $10 rounding), written only
-- when it changed.
INSERT INTO contracts (id, tenant_id, pool_id, currency,
    verification_days, active, payment_terms_days, tax_name, tax_rate_bps,
    tax_rounding)
VALUES ($1, $2, $3, $4, $5::int, $6::boolean, $7::int, $8, $9::int, $10)
ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id,
    pool_id = EXCLUDED.pool_id, currency = EXCLUDED.currency,
    verification_days = EXCLUDED.verification_days,
    active = EXCLUDED.active,
    payment_terms_days = EXCLUDED.payment_terms_days,
    tax_name = EXCLUDED.tax_name, tax_rate_bps = EXCLUDED.tax_rate_bps,
    tax_rounding = EXCLUDED.tax_rounding
WHERE (contracts.tenant_id, contracts.pool_id, contracts.currency,
    contracts.verification_days, contracts.active,
    contracts.payment_terms_days, contracts.tax_name, contracts.tax_rate_bps,
    contracts.tax_rounding) IS DISTINCT FROM
    (EXCLUDED.tenant_id, EXCLUDED.pool_id, EXCLUDED.currency,
    EXCLUDED.verification_days, EXCLUDED.active,
    EXCLUDED.payment_terms_days, EXCLUDED.tax_name, EXCLUDED.tax_rate_bps,
    EXCLUDED.tax_rounding)

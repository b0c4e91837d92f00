-- twinline load: contract $1, written only when it changed.
INSERT INTO contracts (id, tenant_id, pool_id, currency,
    verification_days, active)
VALUES ($1, $2, $3, $4, $5::int, $6::boolean)
ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id,
    pool_id = EXCLUDED.pool_id, currency = EXCLUDED.currency,
    verification_days = EXCLUDED.verification_days,
    active = EXCLUDED.active
WHERE (contracts.tenant_id, contracts.pool_id, contracts.currency,
    contracts.verification_days, contracts.active) IS DISTINCT FROM
    (EXCLUDED.tenant_id, EXCLUDED.pool_id, EXCLUDED.currency,
    EXCLUDED.verification_days, EXCLUDED.active)

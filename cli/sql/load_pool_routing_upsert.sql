-- twinline load: pool $1's routing weights and wrap-up (schema/004),
-- written only when they changed.
INSERT INTO pool_routing (pool_id, wrapup_seconds, w_fit,
    w_occupancy, w_quality, w_cost, w_fairness, fairness_cap)
VALUES ($1, $2::int, $3::bigint, $4::bigint, $5::bigint,
    $6::bigint, $7::bigint, $8::bigint)
ON CONFLICT (pool_id) DO UPDATE SET
    wrapup_seconds = EXCLUDED.wrapup_seconds, w_fit = EXCLUDED.w_fit,
    w_occupancy = EXCLUDED.w_occupancy, w_quality = EXCLUDED.w_quality,
    w_cost = EXCLUDED.w_cost, w_fairness = EXCLUDED.w_fairness,
    fairness_cap = EXCLUDED.fairness_cap
WHERE (pool_routing.wrapup_seconds, pool_routing.w_fit,
    pool_routing.w_occupancy, pool_routing.w_quality,
    pool_routing.w_cost, pool_routing.w_fairness,
    pool_routing.fairness_cap) IS DISTINCT FROM
    (EXCLUDED.wrapup_seconds, EXCLUDED.w_fit, EXCLUDED.w_occupancy,
    EXCLUDED.w_quality, EXCLUDED.w_cost, EXCLUDED.w_fairness,
    EXCLUDED.fairness_cap)

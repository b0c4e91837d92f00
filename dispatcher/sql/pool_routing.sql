-- Routing weights and wrap-up of every pool that has settings.
-- columns: pool_id, wrapup_seconds, w_fit, w_occupancy, w_quality, w_cost, w_fairness, fairness_cap
SELECT pool_id, wrapup_seconds, w_fit, w_occupancy, w_quality, w_cost,
       w_fairness, fairness_cap
FROM pool_routing

-- twinline load: whether version $2 of contract $1's price plan is
-- already stored exactly as given ($3..$11, as load_plan_insert), and the
-- contract's latest version (no row: version $2 is new). A version is
-- immutable.
-- columns: same, latest
SELECT (effective_from = $3::timestamptz AND plan = $4::jsonb
    AND verification_s = $5::bigint AND clawback_s = $6::bigint
    AND platform_fee_bps = $7::int AND operator_weight = $8::int
    AND worker_weight = $9::int AND ai_weight = $10::int
    AND ai_party IS NOT DISTINCT FROM NULLIF($11, '')) AS same,
(SELECT max(version) FROM contract_plans WHERE contract_id = $1) AS latest
FROM contract_plans WHERE contract_id = $1 AND version = $2::int

-- twinline load: version $2 of contract $1's price plan (schema/005);
-- $11 the AI party or ''.
INSERT INTO contract_plans (contract_id, version, effective_from,
    plan, verification_s, clawback_s, platform_fee_bps,
    operator_weight, worker_weight, ai_weight, ai_party)
VALUES ($1, $2::int, $3::timestamptz, $4::jsonb, $5::bigint,
    $6::bigint, $7::int, $8::int, $9::int, $10::int, NULLIF($11, ''))

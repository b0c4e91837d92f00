-- twinline load: drop contract $1's case types that $2 no longer prices;
-- $2 is the contract's prices, {"case_type": {"code": amount, ...}, ...}.
DELETE FROM contract_case_types
WHERE contract_id = $1 AND NOT ($2::jsonb ? case_type)

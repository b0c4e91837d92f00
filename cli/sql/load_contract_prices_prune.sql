-- twinline load: drop contract $1's prices that $2 no longer has (as
-- load_contract_types_prune).
DELETE FROM contract_prices WHERE contract_id = $1 AND NOT
    COALESCE(($2::jsonb -> case_type) ? outcome_code, false)

-- twinline load: contract $1's prices from $2 (as
-- load_contract_types_prune).
INSERT INTO contract_prices (contract_id, case_type, outcome_code,
    amount_minor)
SELECT $1, t.key, p.key, p.value::bigint
FROM jsonb_each($2::jsonb) AS t, jsonb_each_text(t.value) AS p
ON CONFLICT (contract_id, case_type, outcome_code) DO UPDATE
SET amount_minor = EXCLUDED.amount_minor
WHERE contract_prices.amount_minor <> EXCLUDED.amount_minor

-- twinline load: contract $1's case types from $2 (as
-- load_contract_types_prune).
INSERT INTO contract_case_types (contract_id, case_type)
SELECT $1, t FROM jsonb_object_keys($2::jsonb) AS t
ON CONFLICT DO NOTHING

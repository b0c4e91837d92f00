-- twinline statement --worker: whether $1 is a worker or the AI party a
-- price plan pays (a row) or neither (none).
-- columns: known
SELECT 1 AS known FROM workers WHERE id = $1
UNION ALL
SELECT 1 FROM contract_plans WHERE ai_party = $1 LIMIT 1

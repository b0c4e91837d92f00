-- The operator's pools, for filtering the live figures.
-- columns: id
SELECT id FROM pools WHERE operator_id = $1::text ORDER BY id

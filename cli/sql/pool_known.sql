-- Whether pool $1 exists (a row) or not (none).
-- columns: known
SELECT 1 AS known FROM pools WHERE id = $1

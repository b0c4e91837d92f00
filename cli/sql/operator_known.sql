-- Whether operator $1 is registered (a row) or not (none).
-- columns: known
SELECT 1 AS known FROM operators WHERE id = $1

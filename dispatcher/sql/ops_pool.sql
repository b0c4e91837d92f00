-- Pool $1 and whether operator $2 runs it (no row: no such pool).
-- columns: id, mine
SELECT p.id, p.operator_id = $2 AS mine FROM pools p WHERE p.id = $1

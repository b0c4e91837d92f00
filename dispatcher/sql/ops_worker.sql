-- Worker $1 as an operator's action needs it, and whether operator $2
-- runs its pool (no row: no such worker).
-- columns: id, pool_id, mine, active, presence, session_id
SELECT w.id, w.pool_id, p.operator_id = $2 AS mine, w.active, w.presence,
       COALESCE(w.session_id, '') AS session_id
FROM workers w JOIN pools p ON p.id = w.pool_id
WHERE w.id = $1

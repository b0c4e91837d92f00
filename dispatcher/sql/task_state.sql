-- The state of task $1 (no row: no such task).
-- columns: state
SELECT state FROM tasks WHERE id = $1::bigint

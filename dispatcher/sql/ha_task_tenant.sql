-- The tenant of task $1 (an operator's request names only the task).
-- columns: tenant_id
SELECT tenant_id FROM tasks WHERE id = $1::bigint

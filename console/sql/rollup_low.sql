-- The rollup's low task id (the open interval's figures read from it).
-- columns: low_task_id
SELECT COALESCE((SELECT low_task_id FROM console_rollup_state), 0) AS low_task_id

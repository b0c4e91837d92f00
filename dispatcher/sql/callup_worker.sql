-- Worker $1 as a call-up for operator $2 into pool $3 with skill $4 needs
-- it (no row: no such worker): whether the operator runs its pool, it is
-- in pool $3, on call, active and offline, its level of the skill, and
-- whether it has an open call-up already.
-- columns: mine, in_pool, on_call, active, offline, level, open_callup
SELECT p.operator_id = $2 AS mine, w.pool_id = $3 AS in_pool, w.on_call,
       w.active, w.presence = 'offline' AS offline,
       COALESCE((SELECT greatest(s.level, s.ai_level) FROM worker_skills s
                  WHERE s.worker_id = w.id AND s.skill = $4), 0) AS level,
       EXISTS (SELECT 1 FROM callups c WHERE c.worker_id = w.id
                  AND c.state IN ('invited', 'accepted')) AS open_callup
FROM workers w JOIN pools p ON p.id = w.pool_id
WHERE w.id = $1

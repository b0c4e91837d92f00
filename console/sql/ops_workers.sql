-- The operator's workers ($2: one pool, or '' for all) as the live
-- wallboard shows them: state and time in it, load, occupancy, current
-- tasks, tasks today and the share of them the AI skill pack made
-- possible (the worker's own level was below the step's); whether an
-- operator deactivated it (state 'deactivated') and whether it is on call.
-- columns: doc
WITH w AS (
    SELECT w.* FROM workers w JOIN pools p ON p.id = w.pool_id
     WHERE p.operator_id = $1::text AND ($2::text = '' OR w.pool_id = $2::text)),
l AS (
    SELECT r.worker_id, count(*) AS n,
           count(*) FILTER (WHERE r.state = 'wrapping') AS wr,
           json_agg(json_build_object('task_id', t.id, 'case_id', t.case_id,
               'step', t.step, 'state', r.state, 'since', r.created_at)
               ORDER BY r.id) AS tasks
      FROM reservations r JOIN tasks t ON t.id = r.task_id
     WHERE r.state IN ('pending', 'accepted', 'wrapping')
       AND r.worker_id IN (SELECT id FROM w)
     GROUP BY r.worker_id),
k AS (
    SELECT worker_id, sum(slots) AS n FROM worker_capacity
     WHERE worker_id IN (SELECT id FROM w) GROUP BY worker_id),
d AS (
    SELECT t.worker_id, count(*) AS n,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM cases c
                 JOIN playbook_steps s ON s.tenant_id = t.tenant_id
                  AND s.case_type = c.case_type AND s.version = c.playbook_version
                  AND s.step = t.step
                 JOIN LATERAL jsonb_each_text(s.skills) req ON true
                 LEFT JOIN worker_skills ws ON ws.worker_id = t.worker_id
                  AND ws.skill = req.key
                WHERE c.id = t.case_id
                  AND COALESCE(ws.level, 0) < req.value::int)) AS ai
      FROM tasks t
     WHERE t.state IN ('completed', 'wrapping')
       AND t.completed_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
       AND t.worker_id IN (SELECT id FROM w)
     GROUP BY t.worker_id)
SELECT COALESCE(json_agg(json_build_object(
           'id', w.id, 'pool', w.pool_id, 'name', w.name, 'kind', w.kind,
           'presence', w.presence, 'quality', w.quality,
           'active', w.active, 'on_call', w.on_call,
           'state', CASE WHEN NOT w.active THEN 'deactivated'
                         WHEN w.presence <> 'available' THEN w.presence
                         WHEN COALESCE(l.wr, 0) > 0 AND l.wr = l.n THEN 'wrap_up'
                         WHEN COALESCE(l.n, 0) >= COALESCE(k.n, 0) THEN 'busy'
                         ELSE 'available' END,
           'state_since', cs.since,
           'in_state_s', CASE WHEN cs.since IS NULL THEN NULL
                              ELSE extract(epoch FROM now() - cs.since)::bigint END,
           'last_seen', w.last_seen,
           'load', COALESCE(l.n, 0), 'slots', COALESCE(k.n, 0),
           'occupancy_permille', CASE WHEN COALESCE(k.n, 0) = 0 THEN 0
                                      ELSE (1000 * COALESCE(l.n, 0) / k.n)::int END,
           'tasks', COALESCE(l.tasks, '[]'),
           'tasks_today', COALESCE(d.n, 0),
           'ai_share_permille', CASE WHEN w.kind = 'ai' THEN 1000
                                     WHEN COALESCE(d.n, 0) = 0 THEN NULL
                                     ELSE (1000 * d.ai / d.n)::int END)
           ORDER BY w.id), '[]')::text AS doc
  FROM w LEFT JOIN l ON l.worker_id = w.id LEFT JOIN k ON k.worker_id = w.id
  LEFT JOIN d ON d.worker_id = w.id
  LEFT JOIN console_worker_state cs ON cs.worker_id = w.id

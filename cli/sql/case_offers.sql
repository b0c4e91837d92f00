-- twinline case show: the offers (reservations) of case $1's tasks, dates
-- and times in the tenant's time zone, '' where not yet.
-- columns: id, step, worker_id, epoch, state, created_at, deadline, answered_at, reason
SELECT r.id, t.step, r.worker_id, r.epoch, r.state,
       to_char(r.created_at AT TIME ZONE n.time_zone,
               'YYYY-MM-DD HH24:MI:SS') AS created_at,
       to_char(r.deadline AT TIME ZONE n.time_zone,
               'YYYY-MM-DD HH24:MI:SS') AS deadline,
       COALESCE(to_char(r.answered_at AT TIME ZONE n.time_zone,
                        'YYYY-MM-DD HH24:MI:SS'), '') AS answered_at,
       COALESCE(r.reason, '') AS reason
  FROM reservations r JOIN tasks t ON t.id = r.task_id
  JOIN tenants n ON n.id = t.tenant_id
 WHERE t.case_id = $1::bigint
 ORDER BY r.id

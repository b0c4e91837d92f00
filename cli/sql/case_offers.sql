-- twinline case show: the offers (reservations) of case $1's tasks, times
-- of day, '' where not yet.
-- columns: id, step, worker_id, epoch, state, created_at, deadline, answered_at, reason
SELECT r.id, t.step, r.worker_id, r.epoch, r.state,
       to_char(r.created_at, 'HH24:MI:SS.MS') AS created_at,
       to_char(r.deadline, 'HH24:MI:SS.MS') AS deadline,
       COALESCE(to_char(r.answered_at, 'HH24:MI:SS.MS'), '') AS answered_at,
       COALESCE(r.reason, '') AS reason
  FROM reservations r JOIN tasks t ON t.id = r.task_id
 WHERE t.case_id = $1::bigint
 ORDER BY r.id

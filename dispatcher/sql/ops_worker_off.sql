-- An operator signs worker $1 out ($2 true: and deactivates it): offline
-- now with no session, as when its lease runs out — pending offers
-- canceled, accepted tasks rescinded (reason $3), a task nobody holds any
-- more pending again. Rows: ('worker', worker) and then ('task', worker,
-- reservation, task) for each reservation.
-- columns: kind, worker_id, reservation_id, task_id
WITH w AS (
  UPDATE workers
  SET presence = 'offline', active = active AND NOT $2::boolean,
      idle_since = CASE WHEN presence <> 'offline' THEN now()
                        ELSE idle_since END,
      session_id = NULL, session_host = NULL, session_pid = NULL,
      session_since = NULL
  WHERE id = $1
  RETURNING id),
r AS (
  UPDATE reservations
  SET state = CASE WHEN state = 'pending' THEN 'canceled'
                   ELSE 'rescinded' END,
      answered_at = now(), reason = $3
  WHERE worker_id IN (SELECT id FROM w)
    AND state IN ('pending', 'accepted')
  RETURNING id, task_id, worker_id, epoch),
t AS (
  UPDATE tasks SET state = 'pending', worker_id = NULL
  FROM r WHERE tasks.id = r.task_id AND tasks.epoch = r.epoch
   AND tasks.state IN ('reserved', 'assigned')
   AND NOT EXISTS (SELECT 1 FROM reservations o
                   WHERE o.task_id = r.task_id AND o.epoch = r.epoch
                     AND o.state = 'pending'
                     AND o.id NOT IN (SELECT id FROM r))
  RETURNING tasks.id)
SELECT 'worker' AS kind, id AS worker_id, 0::bigint AS reservation_id,
       0::bigint AS task_id
FROM w
UNION ALL
SELECT 'task', worker_id, id, task_id FROM r

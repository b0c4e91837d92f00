-- Workers of this dispatcher's partitions silent for longer than the lease ($1 ms) go offline; their
-- pending offers are canceled and accepted tasks rescinded, and a task
-- nobody holds any more is pending again. Rows: ('worker', worker) for
-- each, then ('task', worker, reservation, task) for each reservation.
-- columns: kind, worker_id, reservation_id, task_id
WITH w AS (
  UPDATE workers SET presence = 'offline', lease_lost = true
  WHERE COALESCE(last_seen, '-infinity')
        < now() - $1::int * interval '1 millisecond'
    AND pool_id IN (SELECT ha_my_pools())
    AND (presence <> 'offline'
         OR id IN (SELECT worker_id FROM reservations
                   WHERE state IN ('pending', 'accepted')))
  RETURNING id),
r AS (
  UPDATE reservations
  SET state = CASE WHEN state = 'pending' THEN 'canceled'
                   ELSE 'rescinded' END,
      answered_at = now(), reason = 'lease expired'
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

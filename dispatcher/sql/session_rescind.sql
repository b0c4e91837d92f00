-- The offers and tasks of workers $1 whose session was replaced: the new
-- session never saw them, so they go back as when a lease runs out
-- (pending offers canceled, accepted tasks rescinded, a task nobody holds
-- any more pending again). Rows: each reservation.
-- columns: worker_id, reservation_id, task_id
WITH r AS (
  UPDATE reservations
  SET state = CASE WHEN state = 'pending' THEN 'canceled'
                   ELSE 'rescinded' END,
      answered_at = now(), reason = 'session replaced'
  WHERE worker_id = ANY($1::text[]) AND state IN ('pending', 'accepted')
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
SELECT worker_id, id AS reservation_id, task_id FROM r

-- An operator takes task $1 back from whoever holds it (reason $2): its
-- pending offers canceled, an accepted one rescinded, the task pending
-- again. Rows: each reservation taken back.
-- columns: worker_id, reservation_id
WITH r AS (
  UPDATE reservations
  SET state = CASE WHEN state = 'pending' THEN 'canceled'
                   ELSE 'rescinded' END,
      answered_at = now(), reason = $2
  WHERE task_id = $1::bigint AND state IN ('pending', 'accepted')
  RETURNING id, worker_id),
t AS (
  UPDATE tasks SET state = 'pending', worker_id = NULL
  WHERE id = $1::bigint AND state IN ('reserved', 'assigned')
  RETURNING id)
SELECT worker_id, id AS reservation_id FROM r

-- The rejects of a batch (reservations $1 at epochs $2 by workers $3 with
-- reasons $4), each fenced on its reservation, epoch, worker and pending
-- state. A task is pending again unless other offers of its epoch (a
-- broadcast) are still pending, counting those rejected here as answered;
-- the worker never gets the task again. Rows: the rejects that matched.
-- columns: reservation_id, task_id, worker_id
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[])
           AS v(res_id, epoch, worker_id, reason)),
r AS (
  UPDATE reservations
  SET state = 'rejected', answered_at = now(), reason = v.reason
  FROM v
  WHERE reservations.id = v.res_id AND reservations.epoch = v.epoch
    AND reservations.worker_id = v.worker_id
    AND reservations.state = 'pending'
  RETURNING reservations.id, reservations.task_id, reservations.epoch,
            reservations.worker_id),
t AS (
  UPDATE tasks SET state = 'pending', worker_id = NULL
  FROM r
  WHERE tasks.id = r.task_id AND tasks.epoch = r.epoch
    AND tasks.state = 'reserved'
    AND NOT EXISTS (SELECT 1 FROM reservations o
                    WHERE o.task_id = r.task_id AND o.epoch = r.epoch
                      AND o.state = 'pending'
                      AND o.id NOT IN (SELECT id FROM r))
  RETURNING tasks.id),
x AS (
  INSERT INTO task_exclusions (task_id, worker_id, reason)
  SELECT task_id, worker_id, 'rejected' FROM r ON CONFLICT DO NOTHING)
SELECT r.id AS reservation_id, r.task_id, r.worker_id FROM r

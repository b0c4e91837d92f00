-- Offers to workers of this dispatcher's partitions not answered in time. A task goes back to pending only when no
-- offer of its epoch is still pending (a broadcast waits for the others);
-- the worker never gets it again.
-- columns: reservation_id, task_id, worker_id
WITH x AS (
  UPDATE reservations SET state = 'timeout', answered_at = now()
  WHERE state = 'pending' AND deadline < now()
    AND worker_id IN (SELECT id FROM workers
                      WHERE pool_id IN (SELECT ha_my_pools()))
  RETURNING id, task_id, worker_id, epoch),
t AS (
  UPDATE tasks SET state = 'pending', worker_id = NULL
  FROM x WHERE tasks.id = x.task_id AND tasks.epoch = x.epoch
   AND tasks.state = 'reserved'
   AND NOT EXISTS (SELECT 1 FROM reservations o
                   WHERE o.task_id = x.task_id AND o.epoch = x.epoch
                     AND o.state = 'pending'
                     AND o.id NOT IN (SELECT id FROM x))
  RETURNING tasks.id),
ex AS (
  INSERT INTO task_exclusions (task_id, worker_id, reason)
  SELECT task_id, worker_id, 'timeout' FROM x ON CONFLICT DO NOTHING)
SELECT x.id AS reservation_id, x.task_id, x.worker_id FROM x

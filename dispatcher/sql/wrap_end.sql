-- Wrap-ups of this dispatcher's partitions that ended (database time): reservation and task completed.
-- columns: task_id, worker_id
WITH r AS (
  UPDATE reservations SET state = 'completed'
  WHERE state = 'wrapping' AND wrap_until <= now()
    AND worker_id IN (SELECT id FROM workers
                      WHERE pool_id IN (SELECT ha_my_pools()))
  RETURNING task_id, worker_id),
t AS (
  UPDATE tasks SET state = 'completed'
  FROM r WHERE tasks.id = r.task_id AND tasks.state = 'wrapping')
SELECT task_id, worker_id FROM r

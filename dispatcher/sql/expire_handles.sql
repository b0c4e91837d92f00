-- Tasks accepted by a worker of this dispatcher's partitions longer than
-- $1 ms ago and still not completed go back to the queue: the
-- reservation is rescinded with the reason, the task is pending again
-- and the worker is not offered it again.
-- columns: reservation_id, task_id, worker_id
WITH r AS (
  UPDATE reservations
  SET state = 'rescinded', reason = 'handle time bound exceeded'
  WHERE state = 'accepted'
    AND answered_at < now() - $1::int * interval '1 millisecond'
    AND worker_id IN (SELECT id FROM workers
                      WHERE pool_id IN (SELECT ha_my_pools()))
  RETURNING id, task_id, worker_id, epoch),
t AS (
  UPDATE tasks SET state = 'pending', worker_id = NULL
  FROM r WHERE tasks.id = r.task_id AND tasks.epoch = r.epoch
   AND tasks.state = 'assigned'
  RETURNING tasks.id),
ex AS (
  INSERT INTO task_exclusions (task_id, worker_id, reason)
  SELECT task_id, worker_id, 'handle_time' FROM r ON CONFLICT DO NOTHING)
SELECT r.id AS reservation_id, r.task_id, r.worker_id FROM r

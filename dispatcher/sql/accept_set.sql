-- The accepts of a batch (reservations $1 at epochs $2 by workers $3),
-- each fenced on its reservation, epoch, worker and pending state. The
-- task (still reserved at the offer's epoch) becomes the worker's, then
-- its reservation is accepted, and every other offer of the same epoch (a
-- broadcast) rescinded. A reservation is accepted only if its task was
-- won, so two workers never both hold it; the unique index
-- reservations_one_holder (schema 007) guards the same rule. Of several
-- accepts of one task in the batch the first wins; the others'
-- reservations are rescinded with the rest of the task's pending offers.
-- Rows: ('accepted', reservation, '', task) per accept that won, then
-- ('rescinded', reservation, worker, task) per offer rescinded.
-- columns: kind, reservation_id, worker_id, task_id
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[])
           WITH ORDINALITY AS v(res_id, epoch, worker_id, n)),
r0 AS (
  SELECT DISTINCT ON (r.task_id) r.id, r.task_id, r.epoch, r.worker_id
  FROM v
  JOIN reservations r ON r.id = v.res_id AND r.epoch = v.epoch
   AND r.worker_id = v.worker_id AND r.state = 'pending'
  ORDER BY r.task_id, v.n),
t AS (
  UPDATE tasks SET state = 'assigned', assigned_at = now(),
                   worker_id = r0.worker_id
  FROM r0
  WHERE tasks.id = r0.task_id AND tasks.epoch = r0.epoch
    AND tasks.state = 'reserved'
  RETURNING tasks.id, tasks.epoch, r0.id AS res_id),
a AS (
  UPDATE reservations SET state = 'accepted', answered_at = now()
  FROM t
  WHERE reservations.id = t.res_id AND reservations.state = 'pending'),
x AS (
  UPDATE reservations
  SET state = 'rescinded', answered_at = now(),
      reason = 'accepted by another worker'
  FROM t
  WHERE reservations.task_id = t.id AND reservations.epoch = t.epoch
    AND reservations.state = 'pending' AND reservations.id <> t.res_id
  RETURNING reservations.id, reservations.worker_id, reservations.task_id)
SELECT 'accepted' AS kind, t.res_id AS reservation_id, '' AS worker_id,
       t.id AS task_id
FROM t
UNION ALL
SELECT 'rescinded', x.id, x.worker_id, x.task_id FROM x

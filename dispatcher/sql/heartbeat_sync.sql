-- The re-sync of heartbeats that name the reservations their agent holds
-- (workers $1; pairs of worker $2 and reservation $3 held). A reservation
-- a worker accepted more than 3 s ago (an accept whose reply is still on
-- its way is not yet held) that its agent does not hold is rescinded and
-- its task pending again; a held one the database has not accepted,
-- wrapping or completed for that worker is unknown, and the agent is told
-- (a completed one is not: the agent's own completion settles it, answered
-- duplicate or, when another completion stands, conflict). Rows:
-- ('rescinded', worker, reservation, task), ('unknown', worker,
-- reservation, 0).
-- columns: kind, worker_id, reservation_id, task_id
WITH s AS (
  SELECT DISTINCT w FROM unnest($1::text[]) AS s(w)),
h AS (
  SELECT * FROM unnest($2::text[], $3::bigint[]) AS h(worker_id, id)),
r AS (
  UPDATE reservations
  SET state = 'rescinded', answered_at = now(),
      reason = 'not held by the agent'
  WHERE worker_id IN (SELECT w FROM s)
    AND state = 'accepted'
    AND answered_at < now() - interval '3 s'
    AND NOT EXISTS (SELECT 1 FROM h
                    WHERE h.worker_id = reservations.worker_id
                      AND h.id = reservations.id)
  RETURNING id, task_id, worker_id, epoch),
t AS (
  UPDATE tasks SET state = 'pending', worker_id = NULL
  FROM r WHERE tasks.id = r.task_id AND tasks.epoch = r.epoch
   AND tasks.state = 'assigned'
  RETURNING tasks.id)
SELECT 'rescinded' AS kind, worker_id, id AS reservation_id, task_id FROM r
UNION ALL
SELECT 'unknown', h.worker_id, h.id, 0::bigint FROM h
WHERE NOT EXISTS (SELECT 1 FROM reservations x
                  WHERE x.id = h.id AND x.worker_id = h.worker_id
                    AND x.state IN ('accepted', 'wrapping', 'completed'))

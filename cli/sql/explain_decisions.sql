-- twinline explain: every routing decision recorded for task $1, oldest
-- first, with the reservation's state now.
-- columns: reservation_id, worker_id, rule, ring, ring_def, waited_ms, priority, examined, candidates, filtered, created_at, state
SELECT d.reservation_id, d.worker_id, d.rule, d.ring,
       COALESCE(d.ring_def::text, '') AS ring_def, d.waited_ms, d.priority,
       d.examined, d.candidates::text AS candidates,
       d.filtered::text AS filtered,
       to_char(d.created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at, r.state
  FROM routing_decisions d
  JOIN reservations r ON r.id = d.reservation_id
 WHERE d.task_id = $1::bigint ORDER BY d.id

-- Per worker: its state, load (open reservations), slots and tasks done
-- in the last hour. Wrap-up: every slot in use is a wrapping task, or no
-- open work and the last completion less than the pool's wrap-up ago;
-- busy: every slot taken (wrapping tasks keep theirs).
-- columns: id, pool_id, kind, state, load, slots, tasks_last_hour
WITH l AS (
  SELECT worker_id, count(*) AS n,
         count(*) FILTER (WHERE state = 'wrapping') AS wr
  FROM reservations
  WHERE state IN ('pending', 'accepted', 'wrapping')
  GROUP BY worker_id),
k AS (
  SELECT worker_id, sum(slots) AS n FROM worker_capacity GROUP BY worker_id),
h AS (
  SELECT worker_id, count(*) AS n, max(completed_at) AS last
  FROM tasks
  WHERE state IN ('completed', 'wrapping')
    AND completed_at > now() - interval '1 hour'
  GROUP BY worker_id)
SELECT w.id, w.pool_id, w.kind,
       CASE WHEN w.presence <> 'available' THEN w.presence
            WHEN COALESCE(l.wr, 0) > 0 AND l.wr = l.n THEN 'wrap_up'
            WHEN COALESCE(l.n, 0) = 0 AND h.last IS NOT NULL
                 AND h.last > now() - make_interval(
                       secs => COALESCE(p.wrapup_seconds, 0))
              THEN 'wrap_up'
            WHEN COALESCE(l.n, 0) >= COALESCE(k.n, 0) THEN 'busy'
            ELSE 'available' END AS state,
       COALESCE(l.n, 0) AS load, COALESCE(k.n, 0) AS slots,
       COALESCE(h.n, 0) AS tasks_last_hour
FROM workers w
LEFT JOIN l ON l.worker_id = w.id
LEFT JOIN k ON k.worker_id = w.id
LEFT JOIN h ON h.worker_id = w.id
LEFT JOIN pool_routing p ON p.pool_id = w.pool_id
ORDER BY w.id

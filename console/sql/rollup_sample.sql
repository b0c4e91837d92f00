-- One sample of who is online and busy, taken every $1 ms by the console:
-- added to the open interval's occupancy per pool and channel, to each
-- online worker's day, and to each worker's state (with the time it
-- changed).
-- columns: pools, online, changed
WITH r AS (
    SELECT r.worker_id, s.channel, count(*) AS n
      FROM reservations r JOIN tasks t ON t.id = r.task_id
      JOIN cases c ON c.id = t.case_id
      JOIN playbook_steps s ON s.tenant_id = t.tenant_id
       AND s.case_type = c.case_type AND s.version = c.playbook_version
       AND s.step = t.step
     WHERE r.state IN ('accepted', 'wrapping')
     GROUP BY 1, 2),
l AS (
    SELECT worker_id, count(*) AS n,
           count(*) FILTER (WHERE state = 'wrapping') AS wr
      FROM reservations WHERE state IN ('pending', 'accepted', 'wrapping')
     GROUP BY worker_id),
k AS (SELECT worker_id, sum(slots) AS n FROM worker_capacity GROUP BY worker_id),
occ AS (
    INSERT INTO console_occupancy AS o (interval_start, pool_id, channel,
                                        samples, online_sum, slots_sum, busy_sum)
    SELECT date_bin('15 minutes', now(), timestamptz 'epoch'), w.pool_id, c.channel, 1,
           count(*) FILTER (WHERE w.presence <> 'offline'),
           COALESCE(sum(c.slots) FILTER (WHERE w.presence <> 'offline'), 0),
           COALESCE(sum(least(COALESCE(r.n, 0), c.slots))
                    FILTER (WHERE w.presence <> 'offline'), 0)
      FROM workers w JOIN worker_capacity c ON c.worker_id = w.id AND c.slots > 0
      LEFT JOIN r ON r.worker_id = w.id AND r.channel = c.channel
     GROUP BY w.pool_id, c.channel
    ON CONFLICT (interval_start, pool_id, channel) DO UPDATE SET
        samples = o.samples + 1,
        online_sum = o.online_sum + excluded.online_sum,
        slots_sum = o.slots_sum + excluded.slots_sum,
        busy_sum = o.busy_sum + excluded.busy_sum
    RETURNING 1),
days AS (
    INSERT INTO console_worker_days AS d (day, worker_id, online_ms, busy_ms)
    SELECT (now() AT TIME ZONE 'UTC')::date, w.id, $1::bigint,
           CASE WHEN EXISTS (SELECT 1 FROM r WHERE r.worker_id = w.id)
                THEN $1::bigint ELSE 0 END
      FROM workers w WHERE w.presence <> 'offline'
    ON CONFLICT (day, worker_id) DO UPDATE SET
        online_ms = d.online_ms + excluded.online_ms,
        busy_ms = d.busy_ms + excluded.busy_ms
    RETURNING 1),
st AS (
    INSERT INTO console_worker_state AS cs (worker_id, state, since)
    SELECT w.id,
           CASE WHEN w.presence <> 'available' THEN w.presence
                WHEN COALESCE(l.wr, 0) > 0 AND l.wr = l.n THEN 'wrap_up'
                WHEN COALESCE(l.n, 0) >= COALESCE(k.n, 0) THEN 'busy'
                ELSE 'available' END,
           now()
      FROM workers w LEFT JOIN l ON l.worker_id = w.id
      LEFT JOIN k ON k.worker_id = w.id
    ON CONFLICT (worker_id) DO UPDATE SET state = excluded.state, since = now()
        WHERE cs.state <> excluded.state
    RETURNING 1)
SELECT (SELECT count(*) FROM occ) AS pools, (SELECT count(*) FROM days) AS online,
       (SELECT count(*) FROM st) AS changed

-- Roll up the next interval once it has been closed for $1 seconds (so
-- that transactions begun inside it have committed): store its figures
-- and move the watermark and the low task id on. No row: nothing due.
-- columns: rolled_until, rows, low_task_id
WITH s AS (
    SELECT rolled_until AS lo, low_task_id AS low FROM console_rollup_state
     WHERE rolled_until + interval '15 minutes' + make_interval(secs => $1::int) <= now()
       FOR UPDATE),
ins AS (
    INSERT INTO console_intervals
    SELECT f.* FROM s, console_interval_figures(s.lo, s.low) f
    ON CONFLICT DO NOTHING
    RETURNING 1),
nl AS (
    SELECT COALESCE(
        (SELECT min(t.id) FROM tasks t, s
          WHERE t.id >= s.low
            AND (t.state NOT IN ('completed', 'wrapping', 'skipped', 'canceled')
                 OR t.completed_at >= s.lo + interval '15 minutes')),
        (SELECT COALESCE(max(t.id), 0) + 1 FROM tasks t)) AS low)
UPDATE console_rollup_state c
   SET rolled_until = s.lo + interval '15 minutes',
       low_task_id = greatest(s.low, nl.low)
  FROM s, nl
RETURNING extract(epoch FROM c.rolled_until)::bigint AS rolled_until,
          (SELECT count(*) FROM ins) AS rows, c.low_task_id

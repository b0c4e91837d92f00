-- Where a first rollup starts: the interval of the earliest task ready in
-- the last $1 days (else now), and the first task id of those days.
INSERT INTO console_rollup_state (rolled_until, low_task_id)
SELECT date_bin('15 minutes',
                COALESCE((SELECT min(t.ready_at) FROM tasks t
                           WHERE t.created_at >= now() - make_interval(days => $1::int)),
                         now()),
                timestamptz 'epoch'),
       COALESCE((SELECT min(t.id) FROM tasks t
                  WHERE t.created_at >= now() - make_interval(days => $1::int)),
                (SELECT COALESCE(max(t.id), 0) + 1 FROM tasks t))
ON CONFLICT (one) DO NOTHING

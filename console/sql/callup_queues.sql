-- The call-up's view of every operator's queues (pool, primary skill,
-- channel), as ops_queues.sql defines them: tasks waiting now, tasks
-- that became ready in the last $1 seconds, the mean handle time of the
-- last day's intervals (0 when none), the pool's settings, the workers
-- available now with the skill and their mean slots on the channel, and
-- the call-ups open for it (invited and not past the deadline; accepted).
-- A pool and skill with accepted call-ups and no task at all is a queue
-- of channel 'none', so that its called-up workers can be released.
-- columns: operator_id, pool_id, skill, channel, waiting, arrivals, aht_s, threshold_s, target_permille, model, patience_s, online, slots, invited, accepted
WITH o AS (
    SELECT t.id, t.state, t.ready_at, s.channel,
           COALESCE((SELECT k.key FROM jsonb_each_text(s.skills) k
                      ORDER BY k.value::int DESC, k.key LIMIT 1), 'none') AS skill,
           s.skills, s.ai_mode, t.worker_id, t.tenant_id, c.case_type
      FROM tasks t JOIN cases c ON c.id = t.case_id
      JOIN playbook_steps s ON s.tenant_id = t.tenant_id
       AND s.case_type = c.case_type AND s.version = c.playbook_version
       AND s.step = t.step
     WHERE t.state IN ('pending', 'reserved', 'assigned')
        OR t.ready_at >= now() - $1::int * interval '1 second'),
oq AS (
    SELECT o.*, console_task_pool(o.id, o.worker_id, o.tenant_id, o.case_type,
               o.skill, COALESCE((o.skills ->> o.skill)::int, 0), o.ai_mode) AS pool
      FROM o),
q0 AS (
    SELECT oq.pool AS pool_id, oq.skill, oq.channel,
           count(*) FILTER (WHERE oq.state IN ('pending', 'reserved')) AS waiting,
           count(*) FILTER (WHERE oq.ready_at >= now() - $1::int * interval '1 second')
               AS arrivals
      FROM oq WHERE oq.pool IS NOT NULL
     GROUP BY 1, 2, 3),
q AS (
    SELECT * FROM q0
    UNION ALL
    SELECT DISTINCT c.pool_id, c.skill, 'none', 0::bigint, 0::bigint
      FROM callups c
     WHERE c.state = 'accepted'
       AND NOT EXISTS (SELECT 1 FROM q0 WHERE q0.pool_id = c.pool_id
                          AND q0.skill = c.skill))
SELECT p.operator_id, q.pool_id, q.skill, q.channel, q.waiting, q.arrivals,
       COALESCE((SELECT sum(i.handle_sum_ms) / nullif(sum(i.handled), 0) / 1000.0
                   FROM console_intervals i
                  WHERE i.pool_id = q.pool_id AND i.skill = q.skill
                    AND i.channel = q.channel
                    AND i.interval_start >= now() - interval '1 day'), 0)::float8
           AS aht_s,
       COALESCE(ps.threshold_s, 20) AS threshold_s,
       COALESCE(ps.target_permille, 800) AS target_permille,
       COALESCE(ps.model, 'erlang_c') AS model,
       COALESCE(ps.patience_s, 180) AS patience_s,
       (SELECT count(*) FROM workers w JOIN worker_skills s
           ON s.worker_id = w.id AND s.skill = q.skill
         WHERE w.pool_id = q.pool_id AND w.presence = 'available' AND w.active
           AND greatest(s.level, s.ai_level) > 0) AS online,
       COALESCE((SELECT round(avg(c.slots))::int FROM workers w
                   JOIN worker_capacity c ON c.worker_id = w.id
                    AND c.channel = q.channel AND c.slots > 0
                  WHERE w.pool_id = q.pool_id), 1) AS slots,
       (SELECT count(*) FROM callups u WHERE u.pool_id = q.pool_id
           AND u.skill = q.skill AND u.state = 'invited'
           AND u.deadline >= now()) AS invited,
       (SELECT count(*) FROM callups u WHERE u.pool_id = q.pool_id
           AND u.skill = q.skill AND u.state = 'accepted') AS accepted
  FROM q JOIN pools p ON p.id = q.pool_id
  LEFT JOIN console_pool_settings ps ON ps.pool_id = q.pool_id
 ORDER BY p.operator_id, q.pool_id, q.skill, q.channel

-- Live queues of the operator per pool, skill and channel: waiting
-- (ready, not yet accepted), in progress, the oldest wait, the breach
-- risk (waiting tasks whose SLA ends within the pool's breach_minutes and
-- that have used half their SLA or more, or breached it already), the
-- service level of the open interval and of today (UTC) so far, and the
-- workers available who hold the skill. The open interval's
-- figures read tasks from the rollup's low task id on.
-- columns: doc
WITH o AS (
    SELECT t.id, t.state, t.ready_at, t.sla_due_at, s.channel,
           COALESCE((SELECT k.key FROM jsonb_each_text(s.skills) k
                      ORDER BY k.value::int DESC, k.key LIMIT 1), 'none') AS skill,
           s.skills, s.ai_mode, t.worker_id, t.tenant_id, c.case_type
      FROM tasks t JOIN cases c ON c.id = t.case_id
      JOIN playbook_steps s ON s.tenant_id = t.tenant_id
       AND s.case_type = c.case_type AND s.version = c.playbook_version
       AND s.step = t.step
     WHERE t.state IN ('pending', 'reserved', 'assigned')),
oq AS (
    SELECT o.*, console_task_pool(o.id, o.worker_id, o.tenant_id, o.case_type,
               o.skill, COALESCE((o.skills ->> o.skill)::int, 0), o.ai_mode) AS pool
      FROM o),
live AS (
    SELECT oq.pool, oq.skill, oq.channel,
           count(*) FILTER (WHERE oq.state IN ('pending', 'reserved')) AS waiting,
           count(*) FILTER (WHERE oq.state = 'assigned') AS in_progress,
           COALESCE(max(extract(epoch FROM now() - oq.ready_at) * 1000)
               FILTER (WHERE oq.state IN ('pending', 'reserved')), 0)::bigint AS oldest_ms,
           count(*) FILTER (WHERE oq.state IN ('pending', 'reserved')
               AND oq.sla_due_at - now() < least(
                   make_interval(mins => COALESCE(ps.breach_minutes, 5)),
                   (oq.sla_due_at - oq.ready_at) / 2)) AS breach_risk
      FROM oq LEFT JOIN console_pool_settings ps ON ps.pool_id = oq.pool
     GROUP BY 1, 2, 3),
cur AS (
    SELECT * FROM console_interval_figures(
        date_bin('15 minutes', now(), timestamptz 'epoch'),
        COALESCE((SELECT low_task_id FROM console_rollup_state), 0))),
today AS (
    SELECT pool_id, skill, channel, sum(offered) AS offered,
           sum(accepted) AS accepted, sum(expired) AS expired,
           sum(answered_in_sl) AS in_sl, sum(handled) AS handled
      FROM (SELECT pool_id, skill, channel, offered, accepted, expired,
                   answered_in_sl, handled FROM console_intervals
             WHERE interval_start >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
               AND interval_start < date_bin('15 minutes', now(), timestamptz 'epoch')
            UNION ALL
            SELECT pool_id, skill, channel, offered, accepted, expired,
                   answered_in_sl, handled FROM cur) u
     GROUP BY 1, 2, 3),
k AS (
    SELECT pool AS pool_id, skill, channel FROM live
    UNION SELECT pool_id, skill, channel FROM today)
SELECT COALESCE(json_agg(json_build_object(
           'pool', k.pool_id, 'skill', k.skill, 'channel', k.channel,
           'waiting', COALESCE(live.waiting, 0),
           'in_progress', COALESCE(live.in_progress, 0),
           'oldest_wait_ms', COALESCE(live.oldest_ms, 0),
           'breach_risk', COALESCE(live.breach_risk, 0),
           'threshold_s', COALESCE(ps.threshold_s, 20),
           'target_permille', COALESCE(ps.target_permille, 800),
           'sl_now_permille', CASE WHEN COALESCE(cur.accepted + cur.expired, 0) = 0
               THEN NULL ELSE 1000 * cur.answered_in_sl / (cur.accepted + cur.expired) END,
           'sl_today_permille', CASE WHEN COALESCE(today.accepted + today.expired, 0) = 0
               THEN NULL ELSE (1000 * today.in_sl / (today.accepted + today.expired))::int END,
           'offered_today', COALESCE(today.offered, 0),
           'handled_today', COALESCE(today.handled, 0),
           'expired_today', COALESCE(today.expired, 0),
           'online', (SELECT count(*) FROM workers w JOIN worker_skills s
                        ON s.worker_id = w.id AND s.skill = k.skill
                       WHERE w.pool_id = k.pool_id AND w.presence = 'available'))
           ORDER BY k.pool_id, k.skill, k.channel), '[]')::text AS doc
  FROM k
  JOIN pools p ON p.id = k.pool_id AND p.operator_id = $1::text
  LEFT JOIN live ON live.pool = k.pool_id AND live.skill = k.skill AND live.channel = k.channel
  LEFT JOIN cur ON cur.pool_id = k.pool_id AND cur.skill = k.skill AND cur.channel = k.channel
  LEFT JOIN today ON today.pool_id = k.pool_id AND today.skill = k.skill AND today.channel = k.channel
  LEFT JOIN console_pool_settings ps ON ps.pool_id = k.pool_id

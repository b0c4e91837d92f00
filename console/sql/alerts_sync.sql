-- Find the conditions operators must hear about now, open an alert for
-- each that is new and close the open alerts whose condition is gone, in
-- one statement; returns what changed. Conditions: a queue with waiting
-- tasks whose SLA ends within the pool's breach_minutes and that have
-- used half their SLA or more (sl_at_risk); a queue with waiting tasks
-- and no available worker of its pool holding the skill at the step's
-- level (no_eligible_worker); a worker not offline whose agent has been silent for $1 seconds, or who
-- let 3 or more offers time out in 10 minutes and accepted none
-- (worker_not_responding).
-- columns: change, id, operator_id, doc
WITH o AS (
    SELECT t.id, t.state, t.ready_at, t.sla_due_at, t.worker_id, t.tenant_id,
           c.case_type, s.channel, s.ai_mode, s.skills,
           COALESCE((SELECT k.key FROM jsonb_each_text(s.skills) k
                      ORDER BY k.value::int DESC, k.key LIMIT 1), 'none') AS skill
      FROM tasks t JOIN cases c ON c.id = t.case_id
      JOIN playbook_steps s ON s.tenant_id = t.tenant_id
       AND s.case_type = c.case_type AND s.version = c.playbook_version
       AND s.step = t.step
     WHERE t.state IN ('pending', 'reserved')),
oq AS (
    SELECT o.*, COALESCE((o.skills ->> o.skill)::int, 0) AS level,
           console_task_pool(o.id, o.worker_id, o.tenant_id, o.case_type, o.skill,
               COALESCE((o.skills ->> o.skill)::int, 0), o.ai_mode) AS pool
      FROM o),
q AS (
    SELECT oq.pool, oq.skill, oq.channel, count(*) AS waiting,
           count(*) FILTER (WHERE oq.sla_due_at - now() < least(
               make_interval(mins => COALESCE(ps.breach_minutes, 5)),
               (oq.sla_due_at - oq.ready_at) / 2)) AS breach,
           count(*) FILTER (WHERE NOT EXISTS (
               SELECT 1 FROM workers w JOIN worker_skills ws ON ws.worker_id = w.id
                WHERE w.pool_id = oq.pool AND w.presence = 'available'
                  AND (oq.skill = 'none' OR (ws.skill = oq.skill
                       AND greatest(ws.level, CASE WHEN oq.ai_mode = 'none' THEN 0
                                              ELSE ws.ai_level END) >= oq.level)))) AS orphan,
           max(extract(epoch FROM now() - oq.ready_at))::bigint AS oldest_s,
           COALESCE(max(ps.breach_minutes), 5) AS breach_minutes
      FROM oq LEFT JOIN console_pool_settings ps ON ps.pool_id = oq.pool
     GROUP BY 1, 2, 3),
wk AS (
    SELECT w.id, w.pool_id, w.last_seen,
           (SELECT count(*) FROM reservations r WHERE r.worker_id = w.id
               AND r.state = 'timeout' AND r.deadline > now() - interval '10 minutes') AS timeouts,
           (SELECT count(*) FROM reservations r WHERE r.worker_id = w.id
               AND r.state IN ('accepted', 'wrapping', 'completed')
               AND r.answered_at > now() - interval '10 minutes') AS accepts
      FROM workers w WHERE w.presence <> 'offline'),
cur AS (
    SELECT p.operator_id, 'sl_at_risk'::text AS kind,
           q.pool || '/' || q.skill || '/' || q.channel AS subject,
           jsonb_build_object('pool', q.pool, 'skill', q.skill, 'channel', q.channel,
               'waiting', q.waiting, 'breaching', q.breach,
               'within_minutes', q.breach_minutes, 'oldest_wait_s', q.oldest_s) AS details
      FROM q JOIN pools p ON p.id = q.pool WHERE q.breach > 0
    UNION ALL
    SELECT p.operator_id, 'no_eligible_worker',
           q.pool || '/' || q.skill || '/' || q.channel,
           jsonb_build_object('pool', q.pool, 'skill', q.skill, 'channel', q.channel,
               'waiting', q.waiting, 'without_worker', q.orphan,
               'oldest_wait_s', q.oldest_s)
      FROM q JOIN pools p ON p.id = q.pool WHERE q.orphan > 0
    UNION ALL
    SELECT p.operator_id, 'worker_not_responding', wk.id,
           jsonb_build_object('worker', wk.id, 'pool', wk.pool_id,
               'silent_s', extract(epoch FROM now() - wk.last_seen)::bigint,
               'timeouts_10m', wk.timeouts)
      FROM wk JOIN pools p ON p.id = wk.pool_id
     WHERE wk.last_seen IS NULL OR wk.last_seen < now() - make_interval(secs => $1::int)
        OR (wk.timeouts >= 3 AND wk.accepts = 0)),
opened AS (
    INSERT INTO console_alerts (operator_id, kind, subject, details)
    SELECT operator_id, kind, subject, details FROM cur
    ON CONFLICT (operator_id, kind, subject) WHERE closed_at IS NULL DO NOTHING
    RETURNING *),
closed AS (
    UPDATE console_alerts a SET closed_at = now()
     WHERE a.closed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.operator_id = a.operator_id
                          AND cur.kind = a.kind AND cur.subject = a.subject)
    RETURNING a.*)
SELECT x.change, x.id, x.operator_id,
       json_build_object('type', 'alert.' || x.change, 'id', x.id,
           'operator', x.operator_id, 'kind', x.kind, 'subject', x.subject,
           'details', x.details, 'opened_at', x.opened_at,
           'closed_at', x.closed_at)::text AS doc
  FROM (SELECT 'opened' AS change, * FROM opened
        UNION ALL SELECT 'closed', * FROM closed) x
 ORDER BY x.id

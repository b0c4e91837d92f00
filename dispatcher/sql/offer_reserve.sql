-- The router's decisions of one batch in one statement: reserve each task
-- ($1) for its workers ($2; one, or several for a broadcast step: each
-- gets a reservation with the task's new epoch) with its channel's offer
-- timeout (channel_settings, else $3 ms), or assign it at once to the
-- first worker where the channel auto-accepts (a broadcast makes no sense
-- there), and record why (routing_decisions, from the JSON array $4, one
-- element per task and worker). The task names its worker only when it
-- has one.
-- columns: reservation_id, task_id, worker_id, epoch, case_id, step, ready_us, tenant_id, case_type, playbook_version, timeout_ms, auto
WITH a AS (
  SELECT a.task_id, a.worker_id, a.n,
         COALESCE(cs.offer_timeout_ms, $3::int) AS timeout_ms,
         COALESCE(cs.auto_accept, false) AS auto
  FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY
       AS a(task_id, worker_id, n)
  JOIN tasks t ON t.id = a.task_id
  JOIN cases c ON c.id = t.case_id
  JOIN playbook_steps s ON s.tenant_id = c.tenant_id
   AND s.case_type = c.case_type AND s.version = c.playbook_version
   AND s.step = t.step
  LEFT JOIN channel_settings cs ON cs.channel = s.channel),
f AS (
  SELECT task_id, min(n) AS first, count(*) AS k, bool_or(auto) AS auto,
         max(timeout_ms) AS timeout_ms
  FROM a GROUP BY task_id),
u AS (
  UPDATE tasks t
  SET state = CASE WHEN f.auto THEN 'assigned' ELSE 'reserved' END,
      epoch = t.epoch + 1,
      worker_id = CASE WHEN f.auto OR f.k = 1 THEN a1.worker_id END,
      offers = t.offers + 1,
      assigned_at = CASE WHEN f.auto THEN now() ELSE t.assigned_at END
  FROM f JOIN a a1 ON a1.n = f.first
  WHERE t.id = f.task_id AND t.state = 'pending'
  RETURNING t.id, t.epoch, t.case_id, t.step,
            (extract(epoch FROM t.ready_at) * 1e6)::bigint AS ready_us,
            f.timeout_ms, f.auto, f.first),
i AS (
  INSERT INTO reservations (task_id, worker_id, epoch, state, deadline,
                            answered_at)
  SELECT u.id, a.worker_id, u.epoch,
         CASE WHEN u.auto THEN 'accepted' ELSE 'pending' END,
         now() + u.timeout_ms * interval '1 millisecond',
         CASE WHEN u.auto THEN now() END
  FROM u JOIN a ON a.task_id = u.id AND (NOT u.auto OR a.n = u.first)
  ORDER BY a.n
  RETURNING id, task_id, worker_id),
x AS (
  INSERT INTO routing_decisions (task_id, reservation_id, worker_id, rule,
                                 ring, ring_def, waited_ms, priority,
                                 examined, candidates, filtered)
  SELECT i.task_id, i.id, i.worker_id, j.rule, j.ring, j.ring_def,
         j.waited_ms, j.priority, j.examined, j.candidates, j.filtered
  FROM i JOIN jsonb_to_recordset($4::jsonb) AS j(task_id bigint,
       worker text, rule text, ring int, ring_def jsonb, waited_ms bigint,
       priority int, examined int, candidates jsonb, filtered jsonb)
    ON j.task_id = i.task_id AND j.worker = i.worker_id)
SELECT i.id AS reservation_id, u.id AS task_id, i.worker_id, u.epoch,
       u.case_id, u.step, u.ready_us, c.tenant_id, c.case_type,
       c.playbook_version, u.timeout_ms, u.auto
FROM i
JOIN u ON u.id = i.task_id
JOIN cases c ON c.id = u.case_id
ORDER BY i.id

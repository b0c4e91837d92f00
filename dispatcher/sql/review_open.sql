-- After AI workers' outcomes of ai: auto steps (tasks $1, confidences $2
-- or NULL, sample buckets $3): record each confidence, and where the
-- confidence is below the step's threshold or the bucket is in the
-- step's sample, mark the outcome for review, make the review step's task
-- ready and record why (ai_reviews). Rows: the review tasks made ready.
-- columns: id, case_id, step, ready_us, tenant_id, case_type, playbook_version, priority
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[])
           AS v(task_id, confidence, bucket)),
a AS (
  SELECT o.id AS outcome_id, o.task_id, o.case_id, c.tenant_id,
         c.case_type, c.playbook_version, c.priority, v.confidence,
         v.bucket, rv.step AS rstep, rv.sla_seconds,
         COALESCE(p.threshold_permille, 800) AS th,
         COALESCE(p.sample_permille, 100) AS sp
  FROM v
  JOIN outcomes o ON o.task_id = v.task_id
  JOIN tasks t ON t.id = o.task_id
  JOIN cases c ON c.id = o.case_id
  JOIN workers w ON w.id = o.worker_id AND w.kind = 'ai'
  JOIN playbook_steps s ON s.tenant_id = c.tenant_id
   AND s.case_type = c.case_type AND s.version = c.playbook_version
   AND s.step = t.step AND s.ai_mode = 'auto'
  JOIN playbook_steps rv ON rv.tenant_id = c.tenant_id
   AND rv.case_type = c.case_type AND rv.version = c.playbook_version
   AND rv.after_steps = ARRAY[t.step::text]
   AND rv.when_outcomes = '{ai_review}'::text[]
  LEFT JOIN ai_review_policy p ON p.tenant_id = c.tenant_id
   AND p.case_type = c.case_type AND p.step = t.step),
sel AS (
  SELECT a.*,
         CASE WHEN a.confidence IS NULL OR a.confidence < a.th
              THEN 'low_confidence'
              WHEN a.bucket < a.sp THEN 'sample' END AS why
  FROM a),
oc AS (
  UPDATE outcomes
  SET confidence = v.confidence,
      review = CASE WHEN sel.why IS NOT NULL THEN 'pending' END
  FROM v LEFT JOIN sel ON sel.task_id = v.task_id
  WHERE outcomes.task_id = v.task_id
    AND (v.confidence IS NOT NULL OR sel.why IS NOT NULL)),
rt AS (
  UPDATE tasks
  SET state = 'pending', ready_at = now(),
      sla_due_at = now() + make_interval(secs => sel.sla_seconds)
  FROM sel
  WHERE sel.why IS NOT NULL AND tasks.case_id = sel.case_id
    AND tasks.step = sel.rstep AND tasks.state = 'waiting'
  RETURNING tasks.id, tasks.case_id, tasks.step,
            (extract(epoch FROM tasks.ready_at) * 1e6)::bigint AS ready_us,
            sel.tenant_id, sel.case_type, sel.playbook_version,
            sel.priority, sel.outcome_id, sel.why),
ins AS (
  INSERT INTO ai_reviews (outcome_id, review_task_id, reason)
  SELECT outcome_id, id, why FROM rt)
SELECT id, case_id, step, ready_us, tenant_id, case_type, playbook_version,
       priority
FROM rt

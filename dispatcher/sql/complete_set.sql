-- The completions of a batch (tasks $1 at epochs $2 by workers $3 with
-- reservations $4, outcome codes $5, fields $6 as JSON text and
-- billability $7), each fenced on its task, epoch, worker and assigned
-- state: task and reservation are `wrapping` until the wrap-up of the
-- worker's pool ends (dsp_wrap_end), else `completed` at once; the outcome
-- is recorded with an outcome.recorded event on $8 || tenant || $9.
-- Rows: the completions written.
-- columns: reservation_id, outcome_id, case_id, task_id, state
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[],
                       $5::text[], $6::text[], $7::boolean[])
           AS v(task_id, epoch, worker_id, res_id, code, fields, billable)),
p AS (
  SELECT v.*, COALESCE(pr.wrapup_seconds, 0) AS wrap
  FROM v
  JOIN workers w ON w.id = v.worker_id
  LEFT JOIN pool_routing pr ON pr.pool_id = w.pool_id),
t AS (
  UPDATE tasks
  SET state = CASE WHEN p.wrap > 0 THEN 'wrapping' ELSE 'completed' END,
      completed_at = now()
  FROM p
  WHERE tasks.id = p.task_id AND tasks.epoch = p.epoch
    AND tasks.worker_id = p.worker_id AND tasks.state = 'assigned'
  RETURNING tasks.id, tasks.case_id, tasks.tenant_id, tasks.state, p.wrap),
r AS (
  UPDATE reservations
  SET state = t.state,
      wrap_until = CASE WHEN t.wrap > 0
                        THEN now() + t.wrap * interval '1 second' END
  FROM v, t
  WHERE t.id = v.task_id AND reservations.id = v.res_id
    AND reservations.state = 'accepted'),
o AS (
  INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,
                        reservation_id, code, fields, billable)
  SELECT t.id, t.case_id, t.tenant_id, v.worker_id, v.res_id, v.code,
         v.fields::jsonb, v.billable
  FROM v JOIN t ON t.id = v.task_id
  RETURNING id, task_id, case_id, tenant_id, worker_id, code, billable,
            reservation_id),
ev AS (
  INSERT INTO outbox (subject, payload)
  SELECT $8 || o.tenant_id || $9,
         json_build_object('type', 'outcome.recorded', 'outcome_id', o.id,
                           'task_id', o.task_id, 'case_id', o.case_id,
                           'tenant', o.tenant_id, 'worker', o.worker_id,
                           'code', o.code, 'billable', o.billable)
  FROM o)
SELECT o.reservation_id, o.id AS outcome_id, o.case_id, o.task_id, t.state
FROM o JOIN t ON t.id = o.task_id

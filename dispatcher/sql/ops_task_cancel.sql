-- An operator cancels open task $1 with reason $2: its offers canceled
-- and an accepted one rescinded, the task canceled, and so is its case
-- (a required step will not be done) with the case's other waiting or
-- pending tasks; the tenant gets a case.canceled event on $3 || tenant ||
-- $4. No outcome is written, so nothing is billed for it. Rows: each
-- reservation taken back ('res', worker, reservation) and each other task
-- canceled ('sibling', '', task).
-- columns: kind, worker_id, id
WITH r AS (
  UPDATE reservations
  SET state = CASE WHEN state = 'pending' THEN 'canceled'
                   ELSE 'rescinded' END,
      answered_at = now(), reason = 'canceled by the operator'
  WHERE task_id = $1::bigint AND state IN ('pending', 'accepted')
  RETURNING id, worker_id),
t AS (
  UPDATE tasks SET state = 'canceled', cancel_reason = $2,
                   worker_id = NULL, completed_at = now()
  WHERE id = $1::bigint AND state IN ('pending', 'reserved', 'assigned')
  RETURNING id, case_id, step),
c AS (
  UPDATE cases SET state = 'canceled', closed_at = now(),
                   cancel_reason = 'step ' || t.step
                                   || ' was canceled by the operator: ' || $2
  FROM t WHERE cases.id = t.case_id AND cases.state = 'open'
  RETURNING cases.id, cases.external_id, cases.tenant_id,
            cases.cancel_reason),
s AS (
  UPDATE tasks SET state = 'canceled',
                   cancel_reason = 'its case was canceled',
                   completed_at = now()
  FROM c WHERE tasks.case_id = c.id
   AND tasks.state IN ('waiting', 'pending')
   AND tasks.id NOT IN (SELECT id FROM t)
  RETURNING tasks.id),
o AS (
  INSERT INTO outbox (subject, payload)
  SELECT $3 || c.tenant_id || $4,
         json_build_object('type', 'case.canceled', 'case_id', c.id,
                           'external_id', c.external_id,
                           'state', 'canceled', 'tenant', c.tenant_id,
                           'reason', c.cancel_reason)
  FROM c)
SELECT 'res' AS kind, worker_id, id FROM r
UNION ALL
SELECT 'sibling', '', id FROM s

-- Tasks past their time to live ($1, with the reason of each in $2):
-- canceled with the reason, and so is their case (a required step can no
-- longer be done), with the case's other waiting or pending tasks; the
-- tenant gets a case.canceled event on $3 || tenant || $4. Tasks already
-- offered or accepted keep going: their work is still recorded.
-- columns: kind, id
WITH x AS (
  SELECT * FROM unnest($1::bigint[], $2::text[]) AS x(id, reason)),
t AS (
  UPDATE tasks SET state = 'canceled', cancel_reason = x.reason,
                   completed_at = now()
  FROM x WHERE tasks.id = x.id AND tasks.state = 'pending'
  RETURNING tasks.id, tasks.case_id, tasks.step, x.reason),
c AS (
  UPDATE cases SET state = 'canceled', closed_at = now(),
                   cancel_reason = 'step ' || t.step || ' was canceled: '
                                   || t.reason
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
SELECT 'task' AS kind, id FROM t
UNION ALL
SELECT 'sibling', id FROM s

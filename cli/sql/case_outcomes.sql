-- twinline case show: the outcomes of case $1 with their billable line
-- (amount_minor and currency NULL while none), recorded at a date and time
-- in the tenant's time zone.
-- columns: id, step, worker_id, code, fields, billable, amount_minor, currency, created_at
SELECT o.id, t.step, o.worker_id, o.code, o.fields::text AS fields,
       CASE WHEN o.billable THEN 'yes' ELSE 'no' END AS billable,
       b.amount_minor, b.currency,
       to_char(o.created_at AT TIME ZONE n.time_zone,
               'YYYY-MM-DD HH24:MI:SS') AS created_at
  FROM outcomes o JOIN tasks t ON t.id = o.task_id
  JOIN tenants n ON n.id = o.tenant_id
  LEFT JOIN billable_lines b ON b.outcome_id = o.id
 WHERE o.case_id = $1::bigint ORDER BY o.id

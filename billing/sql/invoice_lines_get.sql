-- The lines of document $1 in order; absent references are 0 or "".
-- billed_local is the billing time in the document's time zone (UTC for a
-- format 1 document), for people; the signed document has billed_at.
-- columns: line_no, billable_line_id, outcome_id, case_id, task_id, amount_minor, case_external_id, worker_id, operator_id, contract_id, outcome_code, billed_at, description, case_type, tax_name, tax_rate_bps, tax_rounding, tax_minor, billed_local
SELECT il.line_no, coalesce(il.billable_line_id, 0) AS billable_line_id,
       coalesce(il.outcome_id, 0) AS outcome_id,
       coalesce(il.case_id, 0) AS case_id,
       coalesce(il.task_id, 0) AS task_id, il.amount_minor,
       coalesce(il.case_external_id, '') AS case_external_id,
       coalesce(il.worker_id, '') AS worker_id, il.operator_id,
       il.contract_id, il.outcome_code,
       to_char(il.billed_at AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS billed_at,
       il.description, coalesce(il.case_type, '') AS case_type,
       coalesce(il.tax_name, '') AS tax_name,
       coalesce(il.tax_rate_bps, 0) AS tax_rate_bps,
       coalesce(il.tax_rounding, '') AS tax_rounding, il.tax_minor,
       to_char(il.billed_at AT TIME ZONE coalesce(i.time_zone, 'UTC'),
               'YYYY-MM-DD HH24:MI') AS billed_local
  FROM invoice_lines il
  JOIN invoices i ON i.id = il.invoice_id
 WHERE il.invoice_id = $1
 ORDER BY il.line_no

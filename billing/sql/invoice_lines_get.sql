-- The lines of document $1 in order; absent references are 0 or "".
-- columns: line_no, billable_line_id, outcome_id, case_id, task_id, amount_minor, case_external_id, worker_id, operator_id, contract_id, outcome_code, billed_at, description
SELECT line_no, coalesce(billable_line_id, 0) AS billable_line_id,
       coalesce(outcome_id, 0) AS outcome_id,
       coalesce(case_id, 0) AS case_id, coalesce(task_id, 0) AS task_id,
       amount_minor, coalesce(case_external_id, '') AS case_external_id,
       coalesce(worker_id, '') AS worker_id, operator_id, contract_id,
       outcome_code,
       to_char(billed_at AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS billed_at,
       description
  FROM invoice_lines
 WHERE invoice_id = $1
 ORDER BY line_no

-- Onto draft $1: tenant $2's billable lines in currency $3 created in
-- [$4, $5), not invoiced yet, whose outcome is verified (or that have no
-- billable_outcomes row: per-result contracts).
INSERT INTO invoice_lines (invoice_id, kind, line_no, billable_line_id,
    outcome_id, case_id, case_external_id, task_id, worker_id, operator_id,
    contract_id, outcome_code, billed_at, description, amount_minor)
SELECT $1, 'invoice', row_number() OVER (ORDER BY bl.created_at, bl.id),
       bl.id, bl.outcome_id, bl.case_id, c.external_id, bl.task_id,
       bl.worker_id, bl.operator_id, bl.contract_id, bl.outcome_code,
       bl.created_at,
       left(format('Outcome "%s" of %s case %s, task %s, worker %s',
                   bl.outcome_code, c.case_type, c.external_id, bl.task_id,
                   bl.worker_id), 500),
       bl.amount_minor
  FROM billable_lines bl
  JOIN cases c ON c.id = bl.case_id
 WHERE bl.tenant_id = $2 AND bl.currency = $3
   AND bl.created_at >= $4::timestamptz
   AND bl.created_at < $5::timestamptz
   AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                    WHERE il.kind = 'invoice' AND il.billable_line_id = bl.id)
   AND NOT EXISTS (SELECT 1 FROM billable_outcomes bo
                    WHERE bo.outcome_id = bl.outcome_id
                      AND bo.state <> 'verified')

-- Onto draft $1: tenant $2's billable lines sold by operator $3 in
-- currency $4 under contracts with payment terms of $5 days, created in
-- [$6, $7), not invoiced yet, whose outcome is verified (or that have no
-- billable_outcomes row: per-result contracts). Each line takes its
-- contract's tax; its share of the tax is worked out before the draft is
-- issued (invoice_tax_set.sql). The description names what the bank
-- bought, not who in the operator did it.
INSERT INTO invoice_lines (invoice_id, kind, line_no, billable_line_id,
    outcome_id, case_id, case_external_id, task_id, worker_id, operator_id,
    contract_id, outcome_code, billed_at, description, amount_minor,
    case_type, tax_name, tax_rate_bps, tax_rounding)
SELECT $1, 'invoice', row_number() OVER (ORDER BY bl.created_at, bl.id),
       bl.id, bl.outcome_id, bl.case_id, c.external_id, bl.task_id,
       bl.worker_id, bl.operator_id, bl.contract_id, bl.outcome_code,
       bl.created_at,
       left(format('Outcome "%s" of %s case %s', bl.outcome_code,
                   c.case_type, c.external_id), 500),
       bl.amount_minor, c.case_type, k.tax_name, k.tax_rate_bps,
       k.tax_rounding
  FROM billable_lines bl
  JOIN cases c ON c.id = bl.case_id
  JOIN contracts k ON k.id = bl.contract_id
 WHERE bl.tenant_id = $2 AND bl.operator_id = $3 AND bl.currency = $4
   AND k.payment_terms_days = $5::int
   AND bl.created_at >= $6::timestamptz
   AND bl.created_at < $7::timestamptz
   AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                    WHERE il.kind = 'invoice' AND il.billable_line_id = bl.id)
   AND NOT EXISTS (SELECT 1 FROM billable_outcomes bo
                    WHERE bo.outcome_id = bl.outcome_id
                      AND bo.state <> 'verified')

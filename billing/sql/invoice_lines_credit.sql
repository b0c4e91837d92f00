-- Credit lines $3 (line numbers) of invoice $2 into credit note $1; $4 is
-- the invoice's reference, printed in each description. Amounts and taxes
-- are the lines' negated: a credit note takes back exactly the tax its
-- lines were charged, without rounding again.
INSERT INTO invoice_lines (invoice_id, kind, line_no, billable_line_id,
    adjustment_id, outcome_id, case_id, case_external_id, task_id,
    worker_id, operator_id, contract_id, outcome_code, billed_at,
    description, amount_minor, case_type, tax_name, tax_rate_bps,
    tax_rounding, tax_minor)
SELECT $1, 'credit_note', row_number() OVER (ORDER BY il.line_no),
       il.billable_line_id, il.adjustment_id, il.outcome_id, il.case_id,
       il.case_external_id, il.task_id, il.worker_id, il.operator_id,
       il.contract_id, il.outcome_code, il.billed_at,
       left(format('Credit for line %s of %s: %s', il.line_no, $4::text,
                   il.description), 500),
       -il.amount_minor, il.case_type, il.tax_name, il.tax_rate_bps,
       il.tax_rounding, -il.tax_minor
  FROM invoice_lines il
 WHERE il.invoice_id = $2 AND il.line_no = ANY($3::int[])

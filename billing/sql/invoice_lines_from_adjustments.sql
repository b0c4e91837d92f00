-- Onto draft $1, after its outcome lines: tenant $2's adjustments in
-- currency $3 of period $4 or earlier that are not invoiced yet.
INSERT INTO invoice_lines (invoice_id, kind, line_no, adjustment_id,
    case_id, case_external_id, operator_id, contract_id, outcome_code,
    billed_at, description, amount_minor)
SELECT $1, 'invoice',
       (SELECT coalesce(max(line_no), 0) FROM invoice_lines
         WHERE invoice_id = $1) + row_number() OVER (ORDER BY a.id),
       a.id, a.case_id, c.external_id, a.operator_id, a.contract_id,
       a.kind, a.created_at, a.description, a.amount_minor
  FROM billing_adjustments a
  LEFT JOIN cases c ON c.id = a.case_id
 WHERE a.tenant_id = $2 AND a.currency = $3 AND a.period <= $4
   AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                    WHERE il.kind = 'invoice' AND il.adjustment_id = a.id)

-- Onto draft $1, after its outcome lines: tenant $2's adjustments sold by
-- operator $3 in currency $4 under contracts with payment terms of $5
-- days, of period $6 or earlier, not invoiced yet, each with its
-- contract's tax (a penalty lowers the taxed base).
INSERT INTO invoice_lines (invoice_id, kind, line_no, adjustment_id,
    case_id, case_external_id, operator_id, contract_id, outcome_code,
    billed_at, description, amount_minor, case_type, tax_name,
    tax_rate_bps, tax_rounding)
SELECT $1, 'invoice',
       (SELECT coalesce(max(line_no), 0) FROM invoice_lines
         WHERE invoice_id = $1) + row_number() OVER (ORDER BY a.id),
       a.id, a.case_id, c.external_id, a.operator_id, a.contract_id,
       a.kind, a.created_at, a.description, a.amount_minor, c.case_type,
       k.tax_name, k.tax_rate_bps, k.tax_rounding
  FROM billing_adjustments a
  JOIN contracts k ON k.id = a.contract_id
  LEFT JOIN cases c ON c.id = a.case_id
 WHERE a.tenant_id = $2 AND a.operator_id = $3 AND a.currency = $4
   AND k.payment_terms_days = $5::int AND a.period <= $6
   AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                    WHERE il.kind = 'invoice' AND il.adjustment_id = a.id)

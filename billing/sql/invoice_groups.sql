-- What tenant $1 has to invoice in [$2, $3): billable lines and the
-- adjustments (penalties, minimum top-ups) of period $4 or of an earlier
-- one that were not invoiced yet (a complaint filed after its month was
-- closed goes on the next month's invoice), grouped into one invoice per
-- seller (the operator whose pools did the work), currency and payment
-- terms of the contracts, in that order.
-- columns: operator_id, currency, payment_terms_days, lines
SELECT x.operator_id, x.currency, k.payment_terms_days, sum(x.n) AS lines
  FROM (SELECT bl.operator_id, bl.contract_id, bl.currency, count(*) AS n
          FROM billable_lines bl
         WHERE bl.tenant_id = $1
           AND bl.created_at >= $2::timestamptz
           AND bl.created_at < $3::timestamptz
           AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                            WHERE il.kind = 'invoice'
                              AND il.billable_line_id = bl.id)
           AND NOT EXISTS (SELECT 1 FROM billable_outcomes bo
                            WHERE bo.outcome_id = bl.outcome_id
                              AND bo.state <> 'verified')
         GROUP BY 1, 2, 3
        UNION ALL
        SELECT a.operator_id, a.contract_id, a.currency, count(*)
          FROM billing_adjustments a
         WHERE a.tenant_id = $1 AND a.period <= $4
           AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                            WHERE il.kind = 'invoice'
                              AND il.adjustment_id = a.id)
         GROUP BY 1, 2, 3) x
  JOIN contracts k ON k.id = x.contract_id
 GROUP BY 1, 2, 3
 ORDER BY x.operator_id COLLATE "C", x.currency, k.payment_terms_days

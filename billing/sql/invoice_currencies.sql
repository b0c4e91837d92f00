-- Currencies with lines to invoice for tenant $1 in [$2, $3): billable
-- lines and the adjustments (penalties, minimum top-ups) of period $4 or
-- of an earlier one that were not invoiced yet (a complaint filed after
-- its month was closed goes on the next month's invoice).
-- columns: currency, lines
SELECT currency, sum(n) AS lines
  FROM (SELECT bl.currency, count(*) AS n
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
         GROUP BY bl.currency
        UNION ALL
        SELECT a.currency, count(*)
          FROM billing_adjustments a
         WHERE a.tenant_id = $1 AND a.period <= $4
           AND NOT EXISTS (SELECT 1 FROM invoice_lines il
                            WHERE il.kind = 'invoice'
                              AND il.adjustment_id = a.id)
         GROUP BY a.currency) x
 GROUP BY currency
 ORDER BY currency

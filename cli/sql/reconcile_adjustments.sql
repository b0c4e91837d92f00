-- twinline bill reconcile (the parameters and columns: reconcile_billed.sql):
-- penalties and minimum top-ups (schema/008) are posted to the bank's
-- receivable for exactly their amount.
-- columns: tenant_id, currency, expected, found
SELECT a.tenant_id, a.currency, sum(a.amount_minor) AS expected,
       coalesce(sum((SELECT sum(p.amount_minor) FROM journal_entries j
         JOIN postings p ON p.entry_id = j.id
         JOIN accounts ac ON ac.id = p.account_id
          AND ac.kind = 'bank_receivable'
         WHERE j.idem_key = CASE a.kind WHEN 'complaint_penalty'
           THEN 'dispute:' || a.dispute_id || ':penalty'
           ELSE 'minimum:' || a.contract_id || ':' || a.period END)), 0)
         AS found
  FROM billing_adjustments a
 WHERE ($1::text IS NULL OR a.tenant_id = $1)
   AND ($4::text IS NULL OR a.period = $4)
   AND $2::timestamptz IS NOT DISTINCT FROM $2
   AND $3::timestamptz IS NOT DISTINCT FROM $3
 GROUP BY 1, 2 ORDER BY a.tenant_id COLLATE "C", 2

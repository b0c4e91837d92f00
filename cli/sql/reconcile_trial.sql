-- twinline bill reconcile (the parameters and columns: reconcile_billed.sql):
-- the whole ledger, debits equal credits per currency.
-- columns: tenant_id, currency, expected, found
SELECT 'all' AS tenant_id, a.currency, 0 AS expected,
       coalesce(sum(p.amount_minor), 0) AS found
  FROM postings p JOIN accounts a ON a.id = p.account_id
 WHERE $1::text IS NOT DISTINCT FROM $1
   AND $2::timestamptz IS NOT DISTINCT FROM $2
   AND $3::timestamptz IS NOT DISTINCT FROM $3
   AND $4::text IS NOT DISTINCT FROM $4
 GROUP BY a.currency ORDER BY 2

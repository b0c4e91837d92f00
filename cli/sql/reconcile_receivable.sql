-- twinline bill reconcile (the parameters and columns: reconcile_billed.sql):
-- the ledger's net on the tenant's bank_receivable account over every
-- entry of the outcomes in scope equals the amount of the outcomes in
-- state verified. reconcile_receivable.sql and reconcile_unverified.sql
-- differ only in that account and state.
-- columns: tenant_id, currency, expected, found
WITH b AS (SELECT outcome_id, tenant_id, currency, amount_minor, state
             FROM billable_outcomes WHERE $4::text IS NOT DISTINCT FROM $4
              AND ($1::text IS NULL OR tenant_id = $1)
              AND ($2::timestamptz IS NULL OR outcome_at >= $2)
              AND ($3::timestamptz IS NULL OR outcome_at < $3)),
     l AS (SELECT b.tenant_id, a.currency, sum(p.amount_minor) AS net
             FROM b JOIN journal_entries j ON j.idem_key = ANY (ARRAY[
               'outcome:' || b.outcome_id || ':pending',
               'outcome:' || b.outcome_id || ':verified',
               'outcome:' || b.outcome_id || ':pending:reversed',
               'outcome:' || b.outcome_id || ':verified:reversed'])
             JOIN postings p ON p.entry_id = j.id
             JOIN accounts a ON a.id = p.account_id AND a.party = b.tenant_id
              AND a.kind = 'bank_receivable' GROUP BY 1, 2),
     x AS (SELECT tenant_id, currency, sum(amount_minor) FILTER
             (WHERE state = 'verified') AS amt FROM b GROUP BY 1, 2)
SELECT x.tenant_id, x.currency, coalesce(x.amt, 0) AS expected,
       coalesce(l.net, 0) AS found
  FROM x LEFT JOIN l USING (tenant_id, currency)
 ORDER BY x.tenant_id COLLATE "C", 2

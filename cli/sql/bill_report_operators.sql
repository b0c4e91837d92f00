-- twinline bill report, by operator: the outcomes in scope ($1 tenant or
-- NULL, $2/$3 the period's bounds or NULL) with what their split pays out
-- to people (all but the platform's share), counted and summed per operator
-- and currency, then the ledger's net on the operator's payable (a
-- credit, so negated) for the verified entries of those outcomes (and
-- their reversals), which must equal the verified amounts.
-- bill_report_tenants.sql differs only in the key and the account.
-- columns: party, currency, verified, billed_minor, pending, pending_minor, reversed, reversed_minor, margin_minor, margin_cases, ledger_minor
WITH b AS (SELECT b.outcome_id, b.tenant_id, b.operator_id, b.case_id,
                  b.currency, b.amount_minor, b.state,
                  coalesce(s.payout, 0) AS payout
             FROM billable_outcomes b LEFT JOIN (SELECT outcome_id,
                  sum(amount_minor) FILTER (WHERE role <> 'platform') AS payout
                  FROM outcome_splits GROUP BY outcome_id) s USING (outcome_id)
            WHERE ($1::text IS NULL OR b.tenant_id = $1)
              AND ($2::timestamptz IS NULL OR b.outcome_at >= $2)
              AND ($3::timestamptz IS NULL OR b.outcome_at < $3)),
     f AS (SELECT operator_id AS k, currency,
                  count(*) FILTER (WHERE state = 'verified') AS nv,
                  coalesce(sum(amount_minor) FILTER (WHERE state = 'verified'),
                           0) AS av,
                  count(*) FILTER (WHERE state = 'pending') AS np,
                  coalesce(sum(amount_minor) FILTER (WHERE state = 'pending'),
                           0) AS ap,
                  count(*) FILTER (WHERE state = 'reversed') AS nr,
                  coalesce(sum(amount_minor) FILTER (WHERE state = 'reversed'),
                           0) AS ar,
                  coalesce(sum(amount_minor - payout) FILTER (WHERE state =
                           'verified'), 0) AS margin,
                  count(DISTINCT case_id) FILTER (WHERE state = 'verified')
                    AS cases
             FROM b GROUP BY 1, 2),
     l AS (SELECT b.operator_id AS k, a.currency,
                  -coalesce(sum(p.amount_minor), 0) AS net FROM b
             JOIN journal_entries j ON j.idem_key = ANY (ARRAY[
               'outcome:' || b.outcome_id || ':verified',
               'outcome:' || b.outcome_id || ':verified:reversed'])
             JOIN postings p ON p.entry_id = j.id
             JOIN accounts a ON a.id = p.account_id AND a.kind = 'operator_payable'
              AND a.party = b.operator_id GROUP BY 1, 2)
SELECT f.k AS party, f.currency, nv AS verified, av AS billed_minor,
       np AS pending, ap AS pending_minor, nr AS reversed,
       ar AS reversed_minor, margin AS margin_minor, cases AS margin_cases,
       coalesce(l.net, 0) AS ledger_minor
  FROM f LEFT JOIN l ON l.k = f.k AND l.currency = f.currency
 ORDER BY f.k COLLATE "C", f.currency

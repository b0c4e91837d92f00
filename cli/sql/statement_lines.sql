-- twinline statement: the party's postings of the period with the outcome
-- and share behind each. $1 party, $2 account kind, $3/$4 the period's
-- bounds. Amounts are what the party is owed (payables are credits:
-- negated); json is the line as the --format json output prints it.
-- columns: posted_at, currency, amount, kind, outcome_id, tenant_id, case_external_id, roles, idem_key, json
WITH l AS (SELECT j.id AS entry, j.created_at, j.idem_key,
                  a.currency, -p.amount_minor AS amount,
                  CASE WHEN j.idem_key ~ '^outcome:[0-9]+:' THEN
                    split_part(j.idem_key, ':', 2)::bigint END AS outcome_id
             FROM accounts a JOIN postings p ON p.account_id = a.id
             JOIN journal_entries j ON j.id = p.entry_id
            WHERE a.party = $1 AND a.kind = $2
              AND j.created_at >= $3::timestamptz
              AND j.created_at < $4::timestamptz)
SELECT to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
         AS posted_at,
       l.currency, l.amount,
       CASE WHEN l.idem_key LIKE '%:reversed' THEN 'reversal'
            ELSE 'share' END AS kind,
       coalesce(l.outcome_id::text, '') AS outcome_id,
       coalesce(b.tenant_id, '') AS tenant_id,
       coalesce(c.external_id, '') AS case_external_id,
       coalesce((SELECT string_agg(s.role, ',' ORDER BY s.role)
                   FROM outcome_splits s
                  WHERE s.outcome_id = l.outcome_id AND s.party = $1), '')
         AS roles,
       l.idem_key,
       json_build_object('posted_at', l.created_at, 'kind', CASE WHEN
         l.idem_key LIKE '%:reversed' THEN 'reversal' ELSE 'share' END,
         'currency', l.currency, 'amount_minor', l.amount,
         'outcome_id', l.outcome_id, 'tenant', b.tenant_id,
         'case_external_id', c.external_id, 'entry', l.idem_key)::text
         AS json
  FROM l LEFT JOIN billable_outcomes b ON b.outcome_id = l.outcome_id
  LEFT JOIN cases c ON c.id = b.case_id
 ORDER BY l.currency, l.created_at, l.entry

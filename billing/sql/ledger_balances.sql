-- The balance (debits minus credits) of every account of party $1 (of
-- every party when NULL) that has postings.
-- columns: account_id, party, kind, currency, balance_minor
SELECT a.id AS account_id, a.party, a.kind, a.currency,
       sum(p.amount_minor)::bigint AS balance_minor
  FROM accounts a
  JOIN postings p ON p.account_id = a.id
 WHERE $1::text IS NULL OR a.party = $1::text
 GROUP BY a.id
 ORDER BY a.party, a.kind, a.currency

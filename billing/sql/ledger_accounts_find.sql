-- The ids of the accounts named by the parallel arrays $1 (party), $2
-- (kind) and $3 (currency); no row for an account that does not exist.
-- account_no is the 1-based position in the arrays.
-- columns: account_no, account_id
SELECT t.n AS account_no, a.id AS account_id
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
       AS t(party, kind, currency, n)
  JOIN accounts a
    ON a.party = t.party AND a.kind = t.kind AND a.currency = t.currency

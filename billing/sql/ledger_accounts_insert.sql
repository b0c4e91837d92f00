-- Create the accounts of the parallel arrays $1 (party), $2 (kind) and $3
-- (currency) that do not exist yet, in key order, so that concurrent
-- creators take the unique index's locks in the same order. A creator
-- that commits while this runs is waited for and skipped; the caller then
-- looks the ids up with ledger_accounts_find, whose fresh snapshot sees
-- its rows.
INSERT INTO accounts (party, kind, currency)
SELECT DISTINCT t.party, t.kind, t.currency
  FROM unnest($1::text[], $2::text[], $3::text[]) AS t(party, kind, currency)
 ORDER BY 1, 2, 3
ON CONFLICT (party, kind, currency) DO NOTHING

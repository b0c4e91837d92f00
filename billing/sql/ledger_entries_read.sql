-- The postings of the entries whose keys are the array $1, for reversing
-- them; key_no is the key's 1-based position in $1. A key without an
-- entry has no row.
-- columns: key_no, account_id, amount_minor
SELECT k.n AS key_no, p.account_id, p.amount_minor
  FROM unnest($1::text[]) WITH ORDINALITY AS k(idem_key, n)
  JOIN journal_entries j ON j.idem_key = k.idem_key
  JOIN postings p ON p.entry_id = j.id
 ORDER BY k.n, p.id

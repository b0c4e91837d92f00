-- The ledger's one writer (billing/ledger.c, ledger_batch_post): post the
-- entries whose keys are the array $1, with the postings given by the
-- parallel arrays $2 (the posting's entry: a 1-based position in $1), $3
-- (account id) and $4 (amount), in one statement.
--
-- An entry's fingerprint is the SHA-256 of its "account:amount" pairs
-- sorted, so the same multiset of postings in any order has the same
-- fingerprint; it is computed here and nowhere else. A key not posted
-- before is inserted with all its postings (a data-modifying CTE runs to
-- completion although the final query does not read it). For a key that
-- exists, nothing is inserted and the existing entry is returned with
-- whether its fingerprint is the same (the caller refuses a different
-- one). Keys are inserted in order, so concurrent writers of overlapping
-- batches take the unique index's locks in the same order.
--
-- An entry_id of NULL means the key was committed by a concurrent
-- transaction after this statement's snapshot was taken: run the
-- statement again, and its fresh snapshot sees that entry.
-- columns: entry_no, entry_id, created, same
WITH p AS (
    SELECT t.entry_no, t.account_id, t.amount_minor
      FROM unnest($2::int[], $3::bigint[], $4::bigint[])
           AS t(entry_no, account_id, amount_minor)
), fp AS (
    SELECT k.n AS entry_no, k.idem_key,
           encode(sha256(convert_to(string_agg(
               p.account_id::text || ':' || p.amount_minor::text, ','
               ORDER BY p.account_id, p.amount_minor), 'UTF8')), 'hex')
               AS fingerprint
      FROM unnest($1::text[]) WITH ORDINALITY AS k(idem_key, n)
      JOIN p ON p.entry_no = k.n
     GROUP BY k.n, k.idem_key
), ins AS (
    INSERT INTO journal_entries (idem_key, fingerprint)
    SELECT idem_key, fingerprint FROM fp ORDER BY idem_key
    ON CONFLICT (idem_key) DO NOTHING
    RETURNING id, idem_key
), posted AS (
    INSERT INTO postings (entry_id, account_id, amount_minor)
    SELECT ins.id, p.account_id, p.amount_minor
      FROM ins
      JOIN fp ON fp.idem_key = ins.idem_key
      JOIN p ON p.entry_no = fp.entry_no
)
SELECT fp.entry_no, coalesce(ins.id, j.id) AS entry_id,
       ins.id IS NOT NULL AS created,
       coalesce(ins.id IS NOT NULL OR j.fingerprint = fp.fingerprint, false)
           AS same
  FROM fp
  LEFT JOIN ins ON ins.idem_key = fp.idem_key
  LEFT JOIN journal_entries j ON ins.id IS NULL AND j.idem_key = fp.idem_key
 ORDER BY fp.entry_no

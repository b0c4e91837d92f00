-- Cases that still hold their customer in plain text (written before
-- schema 014) and cases erased, for twinline keys list.
-- columns: plaintext, erased
SELECT count(*) FILTER (WHERE customer <> '{}'::jsonb) AS plaintext,
       count(*) FILTER (WHERE erased_at IS NOT NULL) AS erased
FROM cases

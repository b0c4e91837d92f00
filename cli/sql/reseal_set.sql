-- Case $1 resealed: its sealed part becomes $2 (hex) and its customer
-- column empty, provided it still holds what was read ($3: the sealed
-- part in hex, '' for none; $4: the customer as text). No row changed:
-- the case changed meanwhile (erased), and is left as it is.
UPDATE cases
SET personal = decode($2, 'hex'), customer = '{}'::jsonb
WHERE id = $1::bigint AND erased_at IS NULL
  AND COALESCE(encode(personal, 'hex'), '') = $3
  AND customer = $4::jsonb

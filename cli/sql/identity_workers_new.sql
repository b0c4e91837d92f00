-- The workers among $1 that never had an identity (twinline load
-- --identities makes theirs; a revoked worker gets a new one only by
-- twinline identity create).
-- columns: id
SELECT w.id FROM workers w
WHERE w.id = ANY($1::text[])
  AND NOT EXISTS (SELECT 1 FROM identities i
                  WHERE i.role = 'worker' AND i.party = w.id)
ORDER BY w.id

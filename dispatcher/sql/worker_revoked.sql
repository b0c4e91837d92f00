-- Worker $1's identity was revoked: when it has no other active identity,
-- its lease ends now, so the lease check takes its offers and tasks back
-- at once (expire_leases.sql). Rows: the worker, when it was cut off.
-- columns: id
UPDATE workers SET last_seen = NULL
WHERE id = $1
  AND NOT EXISTS (SELECT 1 FROM identities i
                  WHERE i.role = 'worker' AND i.party = $1
                    AND i.status = 'active')
RETURNING id

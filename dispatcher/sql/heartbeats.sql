-- Every heartbeat of a batch (workers $1) at once. A worker whose lease
-- had lapsed comes back as available.
-- columns: id, available
UPDATE workers
SET last_seen = now(),
    presence = CASE WHEN lease_lost THEN 'available' ELSE presence END,
    lease_lost = false
WHERE id = ANY($1::text[])
RETURNING id, presence = 'available' AS available

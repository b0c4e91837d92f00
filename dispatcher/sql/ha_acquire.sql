-- Dispatcher $1 takes partition $3 for $2 ms if it is free (no owner, or
-- its lease expired by PostgreSQL's clock), raising its fencing token
-- (ha_leases_guard logs the takeover). A takeover waits for the writes of
-- the last owner's open transaction (ha_fence locks the row FOR SHARE).
-- columns: token
UPDATE ha_leases
SET owner = $1, token = token + 1, acquired_at = clock_timestamp(),
    expires_at = clock_timestamp() + $2::int * interval '1 millisecond'
WHERE partition = $3
  AND (owner IS NULL OR expires_at <= clock_timestamp())
RETURNING token

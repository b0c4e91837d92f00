-- Dispatcher $1 takes partition $3 for $2 ms if it is free (no owner, or
-- its lease expired by PostgreSQL's clock), raising its fencing token
-- (ha_leases_guard logs the takeover). The row is locked first: a
-- takeover waits for the writes of the last owner's open transaction
-- (ha_fence locks the row FOR SHARE), is checked again after the wait,
-- and its lease runs from when it was granted.
-- columns: token
WITH f AS (
  SELECT partition FROM ha_leases
  WHERE partition = $3
    AND (owner IS NULL OR expires_at <= clock_timestamp())
  FOR UPDATE)
UPDATE ha_leases l
SET owner = $1, token = l.token + 1, acquired_at = clock_timestamp(),
    expires_at = clock_timestamp() + $2::int * interval '1 millisecond'
FROM f
WHERE l.partition = f.partition
RETURNING l.token

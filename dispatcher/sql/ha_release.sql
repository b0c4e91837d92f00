-- Dispatcher $1 gives up partitions $2: free at once for the next owner.
-- columns: partition
UPDATE ha_leases SET owner = NULL, expires_at = clock_timestamp()
WHERE owner = $1 AND partition = ANY ($2::text[])
RETURNING partition

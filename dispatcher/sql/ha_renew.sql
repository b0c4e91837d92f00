-- Dispatcher $1 renews its member row and the leases it holds
-- (partitions $3 with tokens $4) for $2 ms. Rows: the leases it still
-- holds; one taken over or expired meanwhile is not among them.
-- columns: partition, token
WITH m AS (
  UPDATE ha_members SET seen_at = clock_timestamp() WHERE id = $1),
h AS (
  SELECT * FROM unnest($3::text[], $4::bigint[]) AS h(partition, token))
UPDATE ha_leases l
SET expires_at = clock_timestamp() + $2::int * interval '1 millisecond'
FROM h
WHERE l.partition = h.partition AND l.token = h.token AND l.owner = $1
  AND l.expires_at > clock_timestamp()
RETURNING l.partition, l.token

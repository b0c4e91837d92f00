-- Dispatcher $1 renews its member row and the leases it holds
-- (partitions $3 with tokens $4) for $2 ms. Rows: the leases it still
-- holds; one taken over meanwhile is not among them. A lease that expired
-- but that nobody took (same owner, same token) is renewed: nothing was
-- written under it by anyone else, as every takeover raises the token.
-- columns: partition, token
WITH m AS (
  UPDATE ha_members SET seen_at = clock_timestamp() WHERE id = $1),
h AS (
  SELECT * FROM unnest($3::text[], $4::bigint[]) AS h(partition, token))
UPDATE ha_leases l
SET expires_at = clock_timestamp() + $2::int * interval '1 millisecond'
FROM h
WHERE l.partition = h.partition AND l.token = h.token AND l.owner = $1
RETURNING l.partition, l.token

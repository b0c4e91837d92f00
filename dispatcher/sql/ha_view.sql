-- Every partition's lease as dispatcher $1 sees it, with the map's
-- version: whether the lease is free (no owner, or expired by
-- PostgreSQL's clock) and whether its owner was seen in the last $2 ms.
-- columns: partition, owner, token, free, owner_live, map_version
SELECT l.partition, COALESCE(l.owner, '') AS owner, l.token,
       l.owner IS NULL OR l.expires_at <= clock_timestamp() AS free,
       EXISTS (SELECT 1 FROM ha_members m
               WHERE m.id = l.owner
                 AND (m.id = $1 OR m.seen_at > clock_timestamp()
                                  - $2::int * interval '1 millisecond'))
         AS owner_live,
       (SELECT map_version FROM ha_meta) AS map_version
FROM ha_leases l
ORDER BY l.partition

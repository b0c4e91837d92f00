-- Who owns what (docs/ha.md): each partition, its pools and tenants, its
-- lease's owner ('' when free or expired), fencing token and the
-- milliseconds left of the lease, and whether that dispatcher is live.
-- columns: partition, pools, tenants, owner, token, lease_left_ms, owner_live
SELECT l.partition,
       COALESCE((SELECT string_agg(m.id, ',' ORDER BY m.id)
                 FROM ha_partition_map m
                 WHERE m.partition = l.partition AND m.kind = 'pool'), '')
         AS pools,
       COALESCE((SELECT string_agg(m.id, ',' ORDER BY m.id)
                 FROM ha_partition_map m
                 WHERE m.partition = l.partition AND m.kind = 'tenant'), '')
         AS tenants,
       CASE WHEN l.expires_at > clock_timestamp() THEN COALESCE(l.owner, '')
            ELSE '' END AS owner,
       l.token,
       GREATEST(0, (extract(epoch FROM l.expires_at - clock_timestamp())
                    * 1000))::bigint AS lease_left_ms,
       EXISTS (SELECT 1 FROM ha_members h
               WHERE h.id = l.owner
                 AND h.seen_at > clock_timestamp() - interval '10 s')
         AS owner_live
FROM ha_leases l
ORDER BY l.partition

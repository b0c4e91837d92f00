-- Every worker of this dispatcher's partitions (schema 016) as routing
-- needs it: pool, presence, idle since (µs),
-- whether it is an AI worker, and its quality score (0-100).
-- columns: id, pool_id, available, idle_us, ai, quality
SELECT w.id, w.pool_id, w.presence = 'available' AS available,
       (extract(epoch FROM COALESCE(w.idle_since, now())) * 1e6)::bigint
         AS idle_us,
       w.kind = 'ai' AS ai, w.quality
FROM workers w
WHERE w.pool_id IN (SELECT ha_my_pools())
ORDER BY w.id

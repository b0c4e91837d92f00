-- Where requests go: every tenant's and every worker's partition.
-- columns: kind, id, partition
SELECT 'tenant' AS kind, m.id, m.partition
FROM ha_partition_map m WHERE m.kind = 'tenant'
UNION ALL
SELECT 'worker', w.id, m.partition
FROM workers w
JOIN ha_partition_map m ON m.kind = 'pool' AND m.id = w.pool_id

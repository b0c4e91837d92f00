-- The slots per channel of every worker of this dispatcher's partitions.
-- columns: worker_id, channel, slots
SELECT worker_id, channel, slots FROM worker_capacity
WHERE worker_id IN (SELECT id FROM workers
                    WHERE pool_id IN (SELECT ha_my_pools()))

-- The slots per channel of worker $1.
-- columns: worker_id, channel, slots
SELECT worker_id, channel, slots FROM worker_capacity
WHERE worker_id = $1

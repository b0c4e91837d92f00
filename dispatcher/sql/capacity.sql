-- Every worker's slots per channel.
-- columns: worker_id, channel, slots
SELECT worker_id, channel, slots FROM worker_capacity

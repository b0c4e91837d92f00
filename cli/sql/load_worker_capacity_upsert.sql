-- twinline load: worker $1's slots per channel from $2 (as
-- load_worker_capacity_prune).
INSERT INTO worker_capacity (worker_id, channel, slots)
SELECT $1, c.key, c.value::int FROM jsonb_each_text($2::jsonb) AS c
ON CONFLICT (worker_id, channel) DO UPDATE SET slots =
    EXCLUDED.slots WHERE worker_capacity.slots <> EXCLUDED.slots

-- twinline load: drop worker $1's channels that $2 no longer has; $2 is
-- {"voice": 1, ...}.
DELETE FROM worker_capacity
WHERE worker_id = $1 AND NOT ($2::jsonb ? channel)

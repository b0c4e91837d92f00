-- How many offers, tasks and wrap-ups worker $1 holds now.
-- columns: held
SELECT count(*) AS held FROM reservations
WHERE worker_id = $1 AND state IN ('pending', 'accepted', 'wrapping')

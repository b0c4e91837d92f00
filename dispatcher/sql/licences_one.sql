-- The licences of worker $1, as licences.sql.
-- columns: worker_id, code, expires_day
SELECT worker_id, code,
       COALESCE(expires_on - DATE '1970-01-01', 0) AS expires_day
FROM worker_licences
WHERE worker_id = $1
ORDER BY code

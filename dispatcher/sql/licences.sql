-- Every worker's licences, valid until a day number (days since
-- 1970-01-01; 0: never expires).
-- columns: worker_id, code, expires_day
SELECT worker_id, code,
       COALESCE(expires_on - DATE '1970-01-01', 0) AS expires_day
FROM worker_licences
ORDER BY worker_id, code

-- The licences of every worker of this dispatcher's partitions, valid until a day number (days since
-- 1970-01-01; 0: never expires).
-- columns: worker_id, code, expires_day
SELECT worker_id, code,
       COALESCE(expires_on - DATE '1970-01-01', 0) AS expires_day
FROM worker_licences
WHERE worker_id IN (SELECT id FROM workers
                    WHERE pool_id IN (SELECT ha_my_pools()))
ORDER BY worker_id, code

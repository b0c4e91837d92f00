-- twinline load: worker $1's licences and their expiry from $2 (as
-- load_worker_licences_prune).
INSERT INTO worker_licences (worker_id, code, expires_on)
SELECT $1, l.key, (l.value #>> '{}')::date
FROM jsonb_each($2::jsonb) AS l
ON CONFLICT (worker_id, code) DO UPDATE
SET expires_on = EXCLUDED.expires_on
WHERE worker_licences.expires_on IS DISTINCT FROM
    EXCLUDED.expires_on

-- The presence requests of a batch: workers $1 with presences $2, the
-- last of a worker's requests winning. A worker's last_seen moves on, a
-- lapsed lease is forgotten and idle_since restarts when the presence
-- changes. Rows: the workers that exist.
-- columns: id, presence
WITH v AS (
  SELECT DISTINCT ON (worker_id) worker_id, presence
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY
       AS v(worker_id, presence, n)
  ORDER BY worker_id, n DESC)
UPDATE workers w
SET presence = v.presence, last_seen = now(), lease_lost = false,
    idle_since = CASE WHEN w.presence <> v.presence THEN now()
                      ELSE w.idle_since END
FROM v
WHERE w.id = v.worker_id
RETURNING w.id, w.presence

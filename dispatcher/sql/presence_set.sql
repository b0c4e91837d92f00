-- The presence requests of a batch that the sessions allow: workers $1
-- with presences $2 and sessions $3 (id, '' for none), $4 (host) and $5
-- (process, 0), the last of a worker's requests winning. A worker's
-- last_seen moves on, a lapsed lease is forgotten and idle_since restarts
-- when the presence changes. The request's session becomes the worker's
-- (none once offline or without one); session_since restarts when it
-- changes. A worker an operator deactivated may only go offline. Rows:
-- the workers that exist and were changed, with their slots per channel
-- as a JSON object's text.
-- columns: id, presence, slots
WITH v AS (
  SELECT DISTINCT ON (worker_id) worker_id, presence, sid, host, pid
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
       WITH ORDINALITY AS v(worker_id, presence, sid, host, pid, n)
  ORDER BY worker_id, n DESC),
u AS (
  UPDATE workers w
  SET presence = v.presence, last_seen = now(), lease_lost = false,
      idle_since = CASE WHEN w.presence <> v.presence THEN now()
                        ELSE w.idle_since END,
      session_id = CASE WHEN v.presence = 'offline' THEN NULL
                        ELSE NULLIF(v.sid, '') END,
      session_host = CASE WHEN v.presence = 'offline' OR v.sid = '' THEN NULL
                          ELSE v.host END,
      session_pid = CASE WHEN v.presence = 'offline' OR v.sid = '' THEN NULL
                         ELSE v.pid END,
      session_since = CASE WHEN v.presence = 'offline' OR v.sid = '' THEN NULL
                           WHEN w.session_id IS DISTINCT FROM v.sid THEN now()
                           ELSE w.session_since END
  FROM v
  WHERE w.id = v.worker_id AND (w.active OR v.presence = 'offline')
  RETURNING w.id, w.presence)
SELECT u.id, u.presence,
       COALESCE((SELECT json_object_agg(c.channel, c.slots
                                        ORDER BY c.channel)::text
                 FROM worker_capacity c WHERE c.worker_id = u.id),
                '{}') AS slots
FROM u

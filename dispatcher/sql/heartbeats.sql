-- Every heartbeat of a batch (workers $1 with sessions $2, '' for none)
-- at once, where the session may speak for the worker: a heartbeat with
-- a session only while it is the worker's current one; one without while
-- the worker has no session, or its session was silent for longer than
-- the lease ($3 ms), which is then forgotten. A worker whose lease had
-- lapsed comes back as available. Rows: the heartbeats that counted.
-- columns: id, session_id, available
WITH v AS (
  SELECT DISTINCT worker_id, sid
  FROM unnest($1::text[], $2::text[]) AS v(worker_id, sid))
UPDATE workers w
SET last_seen = now(),
    presence = CASE WHEN w.lease_lost THEN 'available' ELSE w.presence END,
    lease_lost = false,
    session_id = CASE WHEN v.sid = '' THEN NULL ELSE w.session_id END,
    session_host = CASE WHEN v.sid = '' THEN NULL ELSE w.session_host END,
    session_pid = CASE WHEN v.sid = '' THEN NULL ELSE w.session_pid END,
    session_since = CASE WHEN v.sid = '' THEN NULL ELSE w.session_since END
FROM v
WHERE w.id = v.worker_id
  AND ((v.sid <> '' AND w.session_id = v.sid)
       OR (v.sid = ''
           AND (w.session_id IS NULL
                OR COALESCE(w.last_seen, '-infinity')
                   < now() - $3::int * interval '1 millisecond')))
RETURNING w.id, v.sid AS session_id, w.presence = 'available' AS available

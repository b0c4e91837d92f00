-- The current sessions of workers $1 (docs/protocol.md, "Sessions"): its
-- id, host and process ('' and 0 when the worker has none), since when
-- (UTC), and whether it is alive: heard from within the lease ($2 ms).
-- Rows: the workers that exist.
-- columns: id, session_id, session_host, session_pid, session_since, live
SELECT id, COALESCE(session_id, '') AS session_id,
       COALESCE(session_host, '') AS session_host,
       COALESCE(session_pid, 0) AS session_pid,
       COALESCE(to_char(session_since AT TIME ZONE 'UTC',
                        'YYYY-MM-DD HH24:MI:SS'), '') AS session_since,
       COALESCE(last_seen >= now() - $2::int * interval '1 millisecond',
                false) AS live
FROM workers
WHERE id = ANY($1::text[])

-- 017_sessions.sql: one session per worker (docs/protocol.md, "Sessions").
-- An agent that keeps a session sends its id, host and process with
-- presence; the dispatcher keeps the worker's current one here, refuses a
-- second sign-in while the first is alive (session_conflict) unless it
-- takes over, and accepts heartbeats of the current session only, so two
-- agents never speak for one worker at once. NULL: no session (signed
-- out, or an agent that keeps none). Forward-only.
ALTER TABLE workers
    ADD COLUMN session_id    text CHECK (session_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    ADD COLUMN session_host  text CHECK (length(session_host) BETWEEN 1 AND 64),
    ADD COLUMN session_pid   bigint CHECK (session_pid BETWEEN 1 AND 2147483647),
    ADD COLUMN session_since timestamptz;

-- A dispatcher ($1, on host $2 with process id $3) joins: its member row
-- is made or renewed (PostgreSQL's clock).
-- columns: id
INSERT INTO ha_members (id, host, pid, seen_at)
VALUES ($1, $2, $3::int, clock_timestamp())
ON CONFLICT (id) DO UPDATE
SET host = EXCLUDED.host, pid = EXCLUDED.pid, seen_at = clock_timestamp()
RETURNING id

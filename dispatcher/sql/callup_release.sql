-- Worker $1's open call-up ends (reason $2): it goes off shift. The
-- worker goes offline unless it holds an offer or a task (the caller
-- checked it holds none). Rows: the call-up released.
-- columns: id, was
WITH c AS (
  SELECT id, state FROM callups
  WHERE worker_id = $1 AND state IN ('invited', 'accepted')
  FOR UPDATE),
u AS (
  UPDATE callups SET state = 'released', released_at = now(),
                     release_reason = $2
  FROM c WHERE callups.id = c.id
  RETURNING callups.id, c.state AS was),
w AS (
  UPDATE workers SET presence = 'offline', idle_since = now()
  WHERE id = $1 AND presence <> 'offline' AND EXISTS (SELECT 1 FROM u)
  RETURNING id)
SELECT id, was FROM u

-- An operator sets task $1's priority to $2; only open tasks, which the
-- router knows, can change.
-- columns: id, state
UPDATE tasks SET priority = $2::int
WHERE id = $1::bigint AND state IN ('pending', 'reserved', 'assigned')
RETURNING id, state

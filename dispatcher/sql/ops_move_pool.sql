-- Worker $1 moves to pool $2.
-- columns: id
UPDATE workers SET pool_id = $2 WHERE id = $1 AND pool_id <> $2
RETURNING id

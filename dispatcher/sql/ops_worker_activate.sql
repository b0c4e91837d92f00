-- Worker $1 may sign in again (it stays offline until it does).
-- columns: id
UPDATE workers SET active = true WHERE id = $1 AND NOT active
RETURNING id

-- Dispatcher $1 stops: its member row goes.
-- columns: id
DELETE FROM ha_members WHERE id = $1 RETURNING id

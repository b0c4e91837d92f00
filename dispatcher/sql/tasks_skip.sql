-- Skip the waiting tasks in $1: their condition failed.
UPDATE tasks SET state = 'skipped', completed_at = now()
WHERE id = ANY($1::bigint[]) AND state = 'waiting'

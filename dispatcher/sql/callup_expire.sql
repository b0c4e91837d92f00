-- Invitations of operator $1 not answered in time are expired.
-- columns: id, worker_id
UPDATE callups SET state = 'expired', answered_at = now()
WHERE operator_id = $1 AND state = 'invited' AND deadline < now()
RETURNING id, worker_id

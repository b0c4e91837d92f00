-- Worker $2 answers call-up $1: accepted ($3 true) or declined, while the
-- invitation is open and not past its deadline. No row: see
-- callup_get.sql.
-- columns: id, state
UPDATE callups
SET state = CASE WHEN $3::boolean THEN 'accepted' ELSE 'declined' END,
    answered_at = now()
WHERE id = $1::bigint AND worker_id = $2 AND state = 'invited'
  AND deadline >= now()
RETURNING id, state

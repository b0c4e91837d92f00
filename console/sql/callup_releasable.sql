-- Called-up workers of pool $1 for skill $2 that hold no offer, task or
-- wrap-up now, the last to come first, at most $3.
-- columns: worker_id
SELECT c.worker_id
  FROM callups c
 WHERE c.pool_id = $1 AND c.skill = $2 AND c.state = 'accepted'
   AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.worker_id = c.worker_id
                      AND r.state IN ('pending', 'accepted', 'wrapping'))
 ORDER BY c.answered_at DESC, c.id DESC
 LIMIT $3::int

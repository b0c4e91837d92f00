-- The operator's call-ups, newest first (at most $2): who was invited for
-- which pool and skill, why (the staffing figure and the workers online),
-- the answer and the release.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'id', c.id, 'pool', c.pool_id, 'worker', c.worker_id,
           'skill', c.skill, 'state', c.state, 'required', c.required,
           'online', c.online, 'reason', c.reason,
           'invited_at', c.invited_at, 'deadline', c.deadline,
           'answered_at', c.answered_at, 'released_at', c.released_at,
           'release_reason', c.release_reason)
           ORDER BY c.id DESC), '[]')::text AS doc
  FROM (SELECT * FROM callups WHERE operator_id = $1
         ORDER BY id DESC LIMIT $2::int) c

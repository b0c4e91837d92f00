-- At most $3 on-call workers of pool $1 to invite for skill $2: active,
-- offline, holding the skill, without an open call-up and not having
-- declined, let one expire or been released in the last 10 minutes (so a
-- worker is not called back and forth); who earned least
-- this month (its worker and handoff shares of billed outcomes) first.
-- columns: worker_id, earned_minor
SELECT w.id AS worker_id,
       COALESCE((SELECT sum(s.amount_minor) FROM outcome_splits s
                   JOIN billable_outcomes b ON b.outcome_id = s.outcome_id
                  WHERE s.party = w.id AND s.role IN ('worker', 'handoff')
                    AND b.state <> 'reversed'
                    AND b.outcome_at >= date_trunc('month', now())), 0)::bigint
           AS earned_minor
  FROM workers w JOIN worker_skills k ON k.worker_id = w.id AND k.skill = $2
 WHERE w.pool_id = $1 AND w.on_call AND w.active AND w.presence = 'offline'
   AND greatest(k.level, k.ai_level) > 0
   AND NOT EXISTS (SELECT 1 FROM callups c WHERE c.worker_id = w.id
                      AND (c.state IN ('invited', 'accepted')
                           OR (c.state IN ('declined', 'expired')
                               AND c.invited_at > now() - interval '10 minutes')
                           OR (c.state = 'released'
                               AND c.released_at > now() - interval '10 minutes')))
 ORDER BY earned_minor, w.id
 LIMIT $3::int

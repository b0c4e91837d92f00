-- The steps of playbook ($1 tenant, $2 case type, $3 version) in order,
-- JSON columns as text.
-- columns: step, channel, sla_seconds, ai_mode, skills, after_steps, when_outcomes, outcomes, licence, rings, ttl_seconds, broadcast
SELECT step, channel, sla_seconds, ai_mode, skills::text AS skills,
       array_to_json(after_steps)::text AS after_steps,
       array_to_json(when_outcomes)::text AS when_outcomes,
       outcomes::text AS outcomes, COALESCE(licence, '') AS licence,
       rings::text AS rings, COALESCE(ttl_seconds, 0) AS ttl_seconds,
       broadcast
FROM playbook_steps
WHERE tenant_id = $1 AND case_type = $2 AND version = $3
ORDER BY ordinal

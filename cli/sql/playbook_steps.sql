-- twinline playbook show: the steps of tenant $1's playbook for case type
-- $2, version $3, in order, with outcomes as "code*" where * marks
-- billable.
-- columns: step, channel, sla_seconds, ai_mode, skills, after_steps, when_outcomes, outcomes
SELECT s.step, s.channel, s.sla_seconds, s.ai_mode,
       COALESCE((SELECT string_agg(k.key || ':' || k.value, ' '
                   ORDER BY k.key) FROM jsonb_each_text(s.skills) k), '')
         AS skills,
       array_to_string(s.after_steps, ',') AS after_steps,
       array_to_string(s.when_outcomes, ',') AS when_outcomes,
       (SELECT string_agg(o.key || CASE WHEN (o.value->>'billable')::bool
                                        THEN '*' ELSE '' END,
                          ' ' ORDER BY o.key)
          FROM jsonb_each(s.outcomes) o) AS outcomes
  FROM playbook_steps s
 WHERE s.tenant_id = $1 AND s.case_type = $2 AND s.version = $3::int
 ORDER BY s.ordinal

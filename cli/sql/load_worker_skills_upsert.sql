-- twinline load: worker $1's skills from $2 (as load_worker_skills_prune).
INSERT INTO worker_skills (worker_id, skill, level, ai_level)
SELECT $1, s.key, (s.value->>'level')::int,
    (s.value->>'ai_level')::int FROM jsonb_each($2::jsonb) AS s
ON CONFLICT (worker_id, skill) DO UPDATE
SET level = EXCLUDED.level, ai_level = EXCLUDED.ai_level
WHERE (worker_skills.level, worker_skills.ai_level)
    IS DISTINCT FROM (EXCLUDED.level, EXCLUDED.ai_level)

-- twinline load: drop worker $1's skills that $2 no longer has; $2 is
-- {"skill": {"level": n, "ai_level": m}, ...}.
DELETE FROM worker_skills
WHERE worker_id = $1 AND NOT ($2::jsonb ? skill)

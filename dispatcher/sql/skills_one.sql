-- The skills of worker $1, as skills.sql.
-- columns: worker_id, skill, level, ai_level
SELECT worker_id, skill, level, ai_level FROM worker_skills
WHERE worker_id = $1

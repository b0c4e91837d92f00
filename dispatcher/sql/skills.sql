-- Every worker's skills: the level alone and the level with AI assist.
-- columns: worker_id, skill, level, ai_level
SELECT worker_id, skill, level, ai_level FROM worker_skills
